# probe-agent test peer: an MCP server built with `fastmcp` (the project most Python MCP servers
# use), served by its own Starlette app and wrapped in the request recorder. Binds 127.0.0.1 only.
#
# Usage: python fastmcp_server.py MODE PORT
#   MODE: streamable (stateful, SSE answers; endpoint /mcp) | stateless (stateless_http; /mcp)
#       | sse (legacy HTTP+SSE; GET /sse, POST /messages/)
# Test-only routes: GET /_test/requests (asgi_recorder), GET /_test/sessions -> {"open": N}.
import signal
import sys

# A parent started from a thread with blocked signals passes its mask on; unblock so we can be stopped.
signal.pthread_sigmask(signal.SIG_SETMASK, [])

import uvicorn
from fastmcp import FastMCP

from asgi_recorder import recording

mode, port = sys.argv[1], int(sys.argv[2])
server = FastMCP("fastmcp-test", version="0.0.2")


@server.tool
def echo(text: str) -> str:
    return text


if mode == "sse":
    app = server.http_app(path="/sse", transport="sse")
elif mode in ("streamable", "stateless"):
    app = server.http_app(path="/mcp", transport="http", stateless_http=mode == "stateless")
else:
    sys.exit(f"unknown mode {mode}")


async def sessions(scope):
    manager = getattr(app.state, "session_manager", None) if hasattr(app, "state") else None
    return 200, {"open": len(getattr(manager, "_server_instances", {}) or {})}


uvicorn.run(recording(app, {"sessions": sessions}), host="127.0.0.1", port=port, log_level="warning")
