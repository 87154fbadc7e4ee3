# Sample target for the compose stack: a plain (unauthenticated) MCP server from the official
# Python SDK, Streamable HTTP at /mcp with JSON responses, plus GET /healthz for `kind: http` probes.
# Usage: python mcp_plain.py            (env: MCP_HOST, default 0.0.0.0; MCP_PORT, default 8000)
import os

from mcp.server.mcpserver import MCPServer
from starlette.requests import Request
from starlette.responses import JSONResponse

host = os.environ.get("MCP_HOST", "0.0.0.0")
port = int(os.environ.get("MCP_PORT", "8000"))

mcp = MCPServer("demo-plain", version="1.0.0")


@mcp.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@mcp.custom_route("/healthz", methods=["GET"])
async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


if __name__ == "__main__":
    mcp.run("streamable-http", host=host, port=port, json_response=True)
