# probe-agent test peer (repo fixture). MCP test server, Python `mcp` 2.x (MCPServer, formerly FastMCP). Binds 127.0.0.1 only; writes no files.
# Usage: python server_v2.py MODE [PORT]      (PORT defaults to $MCP_TEST_PORT, else 8701)
# MODE: json | sse | stateless | legacy-sse
#   json       Streamable HTTP at /mcp, JSON responses, stateful (Mcp-Session-Id)
#   sse        Streamable HTTP at /mcp, SSE responses (SDK default), stateful
#   stateless  Streamable HTTP at /mcp, JSON responses, no session id
#   legacy-sse 2024-11-05 HTTP+SSE: GET /sse, POST /messages/?session_id=...
import os
import sys

from mcp.server.mcpserver import MCPServer

mode = sys.argv[1] if len(sys.argv) > 1 else "json"
port = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("MCP_TEST_PORT", "8701"))

mcp = MCPServer("probe-test", version="0.0.1")


@mcp.tool()
def echo(text: str) -> str:
    return text


if mode == "legacy-sse":
    mcp.run("sse", host="127.0.0.1", port=port)
elif mode in ("json", "sse", "stateless"):
    mcp.run("streamable-http", host="127.0.0.1", port=port,
            json_response=(mode in ("json", "stateless")),
            stateless_http=(mode == "stateless"))
else:
    sys.exit(f"unknown MODE {mode!r}; use json | sse | stateless | legacy-sse")
