# Sample target for the compose stack: an OAuth-protected MCP resource server (official Python SDK).
# A request without a valid bearer token gets 401 + WWW-Authenticate (resource_metadata=...), which
# probe-agent's unauthenticated liveness probe counts as "alive". The token in $MCP_DEMO_TOKEN_FILE
# (default /run/secrets/demo_oauth_token) is accepted with scope mcp:read, so an authenticated
# probe is "healthy". The authorization server URL is advertised only, never contacted.
# Usage: python mcp_oauth.py   (env: MCP_HOST=0.0.0.0, MCP_PORT=8000,
#                               MCP_PUBLIC_URL=http://mcp-oauth:8000/mcp, MCP_DEMO_TOKEN_FILE)
import os

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

host = os.environ.get("MCP_HOST", "0.0.0.0")
port = int(os.environ.get("MCP_PORT", "8000"))
resource = os.environ.get("MCP_PUBLIC_URL", f"http://mcp-oauth:{port}/mcp")
token_file = os.environ.get("MCP_DEMO_TOKEN_FILE", "/run/secrets/demo_oauth_token")

with open(token_file, encoding="utf-8") as f:
    demo_token = f.read().strip()
if not demo_token:
    raise SystemExit(f"{token_file} is empty")


class DemoTokenVerifier:
    """Accepts exactly one opaque token; everything else is rejected (-> 401)."""

    async def verify_token(self, token: str) -> AccessToken | None:
        if token == demo_token:
            return AccessToken(token=token, client_id="probe-agent", scopes=["mcp:read"], resource=resource)
        return None


mcp = MCPServer(
    "demo-oauth",
    version="1.0.0",
    token_verifier=DemoTokenVerifier(),
    auth=AuthSettings(
        issuer_url="https://auth.example.com",
        resource_server_url=resource,
        required_scopes=["mcp:read"],
        validate_token_resource=True,
    ),
)


@mcp.tool()
def whoami() -> str:
    """Say which server answered."""
    return "demo-oauth"


if __name__ == "__main__":
    mcp.run("streamable-http", host=host, port=port, json_response=True)
