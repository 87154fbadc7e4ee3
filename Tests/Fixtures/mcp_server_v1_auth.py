# probe-agent test peer (repo fixture). MCP test server, Python `mcp` 1.x (FastMCP): bearer-protected Streamable HTTP, JSON responses.
# Binds 127.0.0.1 only; writes no files. The authorization server URL is never contacted.
# Usage: python server_v1_auth.py [PORT]      (PORT defaults to $MCP_TEST_PORT, else 8715)
# Tokens: "good-token" (scope mcp:read), "weak-token" (no scopes -> 403); others -> 401.
import os
import sys

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.fastmcp import FastMCP

port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MCP_TEST_PORT", "8715"))


class StaticVerifier:
    async def verify_token(self, token):
        if token == "good-token":
            return AccessToken(token=token, client_id="probe", scopes=["mcp:read"])
        if token == "weak-token":
            return AccessToken(token=token, client_id="probe", scopes=[])
        return None


mcp = FastMCP("probe-test-auth", host="127.0.0.1", port=port, json_response=True,
              token_verifier=StaticVerifier(),
              auth=AuthSettings(issuer_url="https://auth.example.com",
                                resource_server_url=f"http://127.0.0.1:{port}/mcp",
                                required_scopes=["mcp:read"]))


@mcp.tool()
def echo(text: str) -> str:
    return text


mcp.run(transport="streamable-http")
