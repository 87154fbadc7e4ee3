# probe-agent test peer: a stand-in for a 2026-07-28-only (modern era) MCP server. The official
# SDK's own 2026 entry is `mcp_server.py modern-only` (it answers `initialize` 400 / -32602); this
# small server plays the spec's other answer and the faults no SDK shows (mcp-probing.md §4): `initialize` -> 400 with -32022 UnsupportedProtocolVersion
# naming the supported versions; `server/discover` with the right headers -> a DiscoverResult;
# missing/mismatched MCP-Protocol-Version or Mcp-Method -> 400 -32020. Binds 127.0.0.1 only.
# Usage: python mcp_modern_stub.py PORT [--instance ID] [--uptime N] [--token T] [--discover-status N] [--tls CERT KEY]
#   GET /_test/requests -> JSON-RPC methods received. --discover-status: server/discover answers
#   that HTTP status with a plain-text body (a server failing, not a JSON-RPC error).
#   Restart identity (fixture_serving.Instance): with --instance or --uptime, every response carries
#   X-Instance-Id and the DiscoverResult's `_meta` has `instance` and `uptime`;
#   GET /_test/instance and /_test/instance-stats serve its document.
import json
import signal
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fixture_serving import Instance, flag

signal.pthread_sigmask(signal.SIG_SETMASK, [])
RECEIVED = []
instance = Instance(sys.argv)
DISCOVER_STATUS = int(flag(sys.argv, "--discover-status", "0"))
VERSION = "2026-07-28"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj, content_type="application/json"):
        body = obj.encode() if isinstance(obj, str) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if instance.given:
            self.send_header(Instance.header, instance.id)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_test/requests":
            return self.reply(200, RECEIVED)
        if self.path == "/_test/instance":
            time.sleep(instance.document_delay)
            return self.reply(*instance.document(self.headers.get("Authorization")))
        if self.path == "/_test/instance-stats":
            return self.reply(200, instance.stats())
        self.reply(405, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "GET not supported"}})

    def do_DELETE(self):
        self.reply(405, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no sessions"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        method, rid = body.get("method"), body.get("id")
        RECEIVED.append(method)
        if method == "initialize":
            return self.reply(400, {"jsonrpc": "2.0", "id": rid, "error": {
                "code": -32022, "message": "Unsupported protocol version",
                "data": {"supported": [VERSION], "requested": body["params"].get("protocolVersion")}}})
        if self.headers.get("MCP-Protocol-Version") != VERSION or self.headers.get("Mcp-Method") != method:
            return self.reply(400, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32020, "message": "Header mismatch"}})
        if method == "server/discover" and DISCOVER_STATUS:
            return self.reply(DISCOVER_STATUS, "internal error", content_type="text/plain")
        if method == "server/discover":
            meta = {"io.modelcontextprotocol/serverInfo": {"name": "modern-stub", "version": "9.9.9"}}
            if instance.given:
                meta.update(instance.body())
            return self.reply(200, {"jsonrpc": "2.0", "id": rid, "result": {
                "resultType": "complete", "supportedVersions": [VERSION], "ttlMs": 0, "cacheScope": "private",
                "capabilities": {"tools": {"listChanged": True}}, "_meta": meta}})
        self.reply(404, {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}})


server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
if "--tls" in sys.argv:
    at = sys.argv.index("--tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[at + 1], sys.argv[at + 2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
