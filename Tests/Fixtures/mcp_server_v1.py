# probe-agent test peer (repo fixture). MCP test server, Python `mcp` 1.x (FastMCP). Binds 127.0.0.1 only; writes no files.
# Usage: python server_v1.py MODE [PORT]      (PORT defaults to $MCP_TEST_PORT, else 8711)
# MODE: json | sse | stateless | legacy-sse   (same meaning as in server_v2.py)
import os
import sys

from mcp.server.fastmcp import FastMCP

mode = sys.argv[1] if len(sys.argv) > 1 else "json"
port = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("MCP_TEST_PORT", "8711"))
if mode not in ("json", "sse", "stateless", "legacy-sse"):
    sys.exit(f"unknown MODE {mode!r}; use json | sse | stateless | legacy-sse")

mcp = FastMCP("probe-test", host="127.0.0.1", port=port,
              json_response=(mode in ("json", "stateless")),
              stateless_http=(mode == "stateless"))


@mcp.tool()
def echo(text: str) -> str:
    return text


mcp.run(transport="sse" if mode == "legacy-sse" else "streamable-http")
