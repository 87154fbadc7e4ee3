# probe-agent test peer (repo fixture). MCP test server, Python `mcp` 2.x: Streamable HTTP resource server protected by bearer tokens.
# Binds 127.0.0.1 only; writes no files. The authorization server URL is never contacted.
# Usage: python server_v2_auth.py [PORT]      (PORT defaults to $MCP_TEST_PORT, else 8705)
# Tokens: "good-token" has scope mcp:read; "weak-token" has no scopes (-> 403 insufficient_scope);
# anything else (or none) -> 401 with WWW-Authenticate: Bearer ... resource_metadata="...".
import os
import sys

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MCP_TEST_PORT", "8705"))
resource = f"http://127.0.0.1:{port}/mcp"


class StaticVerifier:
    async def verify_token(self, token: str) -> AccessToken | None:
        if token == "good-token":
            return AccessToken(token=token, client_id="probe", scopes=["mcp:read"], resource=resource)
        if token == "weak-token":
            return AccessToken(token=token, client_id="probe", scopes=[], resource=resource)
        return None


mcp = MCPServer("probe-test-auth", version="0.0.1", token_verifier=StaticVerifier(),
                auth=AuthSettings(issuer_url="https://auth.example.com",
                                  resource_server_url=resource,
                                  required_scopes=["mcp:read"],
                                  validate_token_resource=True))


@mcp.tool()
def echo(text: str) -> str:
    return text


mcp.run("streamable-http", host="127.0.0.1", port=port, json_response=True)
