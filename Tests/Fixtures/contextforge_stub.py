"""A stand-in for IBM ContextForge's `GET /gateways`, for the discovery tests. Stdlib only; binds 127.0.0.1.

For the answers the real gateway does not give on demand (a bare array from before pagination, an
HTML page, a slow answer, a fixed page size); ContextForgeGatewayTests runs the real one. It
follows /work/shared/reference/contextforge.md section 4: camelCase `GatewayRead` fields, JWT
Bearer auth (here: one fixed token, 401 otherwise), `include_inactive` (default false),
`include_pagination` (default false: a bare JSON array) with `limit` and `cursor`.

usage: contextforge_stub.py PORT --token TOKEN [--page-size N] [--mode normal|legacy|html|slow]
  legacy: ignores include_pagination and always answers a bare array (ContextForge before pagination)
  html:   answers 200 with an HTML page
  slow:   answers after 5 s
routes: GET /gateways, GET /requests (the path and Accept header of each /gateways request, as JSON)
"""
import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GATEWAYS = [
    {"id": "a1", "name": "Payments MCP", "slug": "payments-mcp", "url": "http://127.0.0.1:9/mcp",
     "transport": "STREAMABLEHTTP", "enabled": True, "reachable": True, "authType": None, "oauthConfig": None},
    {"id": "b2", "name": "Legacy Search", "slug": "legacy-search", "url": "http://127.0.0.1:9/sse",
     "transport": "SSE", "enabled": True, "reachable": False, "authType": "bearer", "authToken": "*****"},
    {"id": "c3", "name": "CRM (OAuth)", "slug": "crm-oauth", "url": "https://crm.example.com/mcp",
     "transport": "STREAMABLEHTTP", "enabled": True, "reachable": True, "authType": "oauth",
     "oauthConfig": {"grant_type": "authorization_code", "client_id": "crm", "client_secret": "*****"}},
    {"id": "d4", "name": "Retired", "slug": "retired", "url": "http://127.0.0.1:9/mcp",
     "transport": "STREAMABLEHTTP", "enabled": False, "reachable": False, "authType": None},
    {"id": "e5", "name": "Billing Tools", "slug": "billing-tools", "url": "http://127.0.0.1:9/mcp",
     "transport": "STREAMABLEHTTP", "enabled": True, "reachable": True, "authType": "oauth",
     "oauthConfig": {"grant_type": "client_credentials"}},
]

requests = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    options = None

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/requests":
            return self.send(200, json.dumps(requests).encode(), "application/json")
        if url.path.rstrip("/") != "/gateways":
            return self.send(404, b'{"detail":"Not Found"}', "application/json")
        requests.append({"path": self.path, "accept": self.headers.get("Accept")})
        if self.headers.get("Authorization") != f"Bearer {self.options.token}":
            return self.send(401, b'{"detail":"Invalid authentication credentials"}', "application/json",
                             [("WWW-Authenticate", "Bearer")])
        mode = self.options.mode
        if mode == "slow":
            time.sleep(5)
        if mode == "html":
            return self.send(200, b"<html><body>login</body></html>", "text/html")

        query = parse_qs(url.query)
        flag = lambda name: query.get(name, ["false"])[0].lower() == "true"
        gateways = [g for g in GATEWAYS if flag("include_inactive") or g["enabled"]]
        if mode == "legacy" or not flag("include_pagination"):
            return self.send(200, json.dumps(gateways).encode(), "application/json")
        limit = int(query.get("limit", [self.options.page_size])[0]) or len(gateways)
        start = int(query.get("cursor", ["0"])[0])
        page = {"gateways": gateways[start:start + limit]}
        if start + limit < len(gateways):
            page["nextCursor"] = str(start + limit)
        return self.send(200, json.dumps(page).encode(), "application/json")

    def send(self, status, body, content_type, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--token", required=True)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--mode", choices=["normal", "legacy", "html", "slow"], default="normal")
    Handler.options = parser.parse_args()
    ThreadingHTTPServer(("127.0.0.1", Handler.options.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
