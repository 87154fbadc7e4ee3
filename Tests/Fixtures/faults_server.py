"""Faulty HTTP and MCP-ish answers for the probe tests. Stdlib only; binds 127.0.0.1.

usage: faults_server.py PORT [--tls CERT KEY]
       faults_server.py PORT --blackhole     (accepts connections and never answers)

routes (GET or POST; a leading /mnt/ is ignored, to imitate a mounted app):
  /status/NNN            that status, short text body
  /garbage               200 text/html, not JSON
  /invalid-jsonrpc       200 application/json {"foo":1}
  /jsonrpc-error         200 application/json JSON-RPC error for id 1
  /jsonrpc-error-echo    200 application/json JSON-RPC error -32602 whose message echoes the request's headers
  /sse-no-endpoint       200 text/event-stream, only comments for 60 s
  /sse-endpoint-404      endpoint event naming a path that 404s
  /sse-wrong-type        200 text/html
  /sse-stream-garbage    garbage lines, then a working endpoint (see /sse-ok)
  /sse-ok[?ref=relative|absolute|other-origin][&reply=wrong-id|wrong-tools-id|malformed-tools]
                         a minimal legacy HTTP+SSE server: endpoint event, POST /messages?session_id=N
                         -> 202, the initialize (and tools/list) answer follows on the stream (other-origin:
                         via localhost; wrong-id: the initialize answer carries id 999, wrong-tools-id: the
                         tools/list answer does; malformed-tools: the tools/list POST gets a reply that is not HTTP)
  /huge                  3 MiB body, chunked (no Content-Length)
  /many-headers          200 with 100,000 response headers
  /huge-header-line      200 with one 10 MiB header line
  /malformed/KIND        a reply that breaks HTTP: status-line (no status code), not-http (an SSH banner),
                         bad-length (Content-Length that is not a number)
  /jsonrpc-wrong-id      200 application/json: a JSON-RPC result for id 999
  /sse-wrong-id          200 text/event-stream: a JSON-RPC result for id 999, then held open for 60 s
  /slow/SECONDS          200 after SECONDS
  /json                  a JSON document for json_fields
  /headers               custom response headers
  /redirect              302 -> /json
  /echo                  JSON {method, headers, body} of the request
  /_stats                {"open_streams": N, "message_auth": [bool]} SSE streams held open now, and
                         whether each POST /messages carried an Authorization header
"""
import itertools
import json
import queue
import select
import socket
import ssl
import sys
import threading
import time

from fixture_serving import RoutedHandler, serve
from urllib.parse import parse_qs, urlsplit

JSON_DOC = {
    "status": "ok",
    "version": "1.2.3",
    "ready": True,
    "count": 3,
    "ratio": 0.5,
    "nothing": None,
    "checks": [{"name": "db", "state": "up", "latency_ms": 12}, {"name": "cache", "state": "degraded"}],
}

# A valid InitializeResult, for an id the probe never sends.
WRONG_ID_REPLY = json.dumps({"jsonrpc": "2.0", "id": 999, "result": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "faults", "version": "0.1"}}}).encode()

MALFORMED = {
    "status-line": b"HTTP/1.1 OK\r\nContent-Length: 3\r\n\r\nok\n",
    "not-http": b"SSH-2.0-OpenSSH_9.2\r\n",
    "bad-length": b"HTTP/1.1 200 OK\r\nContent-Length: three\r\n\r\nok\n",
}

open_streams = 0
message_auth = []
sessions = {}  # session id -> (queue of SSE event bytes, the `reply` option)
lock = threading.Lock()
session_ids = itertools.count(1)


class Handler(RoutedHandler):
    def route(self):
        body = self.read_body()
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if parts[0] == "mnt":
            parts = parts[1:] or [""]
        name, arg = parts[0], (parts[1] if len(parts) > 1 else "")
        query = parse_qs(url.query)
        routes = {
            "status": lambda: self.simple(int(arg), f"status {arg}\n".encode()),
            "garbage": lambda: self.simple(200, b"<html><body>definitely not json</body></html>\n", "text/html"),
            "invalid-jsonrpc": lambda: self.simple(200, b'{"foo":1}', "application/json"),
            "jsonrpc-error": lambda: self.simple(
                200, b'{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"internal failure"}}', "application/json"),
            "jsonrpc-error-echo": lambda: self.simple(200, json.dumps({"jsonrpc": "2.0", "id": 1, "error": {
                "code": -32602, "message": "invalid request parameters: " + json.dumps(dict(self.headers.items()))}}).encode(),
                "application/json"),
            "sse-no-endpoint": lambda: self.sse([], comments=True),
            "sse-endpoint-404": lambda: self.sse([b"event: endpoint\ndata: /missing/messages?session_id=x\n\n"]),
            "sse-wrong-type": lambda: self.simple(200, b"<html>not a stream</html>\n", "text/html"),
            "sse-stream-garbage": lambda: self.sse_session("root", garbage=True),
            "sse-ok": lambda: self.sse_session(query.get("ref", ["root"])[0], wrong_id=query.get("reply", [""])[0]),
            "messages": lambda: self.message(query.get("session_id", [""])[0], body),
            "huge": self.huge,
            "many-headers": lambda: self.raw(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H-%d: v\r\n" % i for i in range(100_000))
                                             + b"Content-Length: 3\r\n\r\nok\n"),
            "huge-header-line": lambda: self.raw(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * (10 << 20)
                                                 + b"\r\nContent-Length: 3\r\n\r\nok\n"),
            "malformed": lambda: self.raw(MALFORMED[arg]),
            "jsonrpc-wrong-id": lambda: self.simple(200, WRONG_ID_REPLY, "application/json"),
            "sse-wrong-id": lambda: self.sse([b"event: message\ndata: " + WRONG_ID_REPLY + b"\n\n"]),
            "slow": lambda: (time.sleep(float(arg)), self.simple(200, b"slow\n")),
            "json": lambda: self.simple(200, json.dumps(JSON_DOC).encode(), "application/json"),
            "headers": lambda: self.simple(200, b"headers\n", extra=[
                ("X-Service", "probe-faults"), ("X-Build", "2024.1"), ("Set-Cookie", "session=secret-cookie-value")]),
            "redirect": lambda: self.simple(302, b"", extra=[("Location", "/json")]),
            "echo": lambda: self.simple(200, json.dumps({
                "method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace")}).encode(), "application/json"),
            "_stats": lambda: self.simple(200, json.dumps({"open_streams": open_streams, "message_auth": message_auth}).encode(),
                                          "application/json"),
        }
        handler = routes.get(name)
        if handler is None:
            self.simple(404, b"not found\n")
        else:
            handler()

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def simple(self, status, body, content_type="text/plain", extra=()):
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def raw(self, reply):
        """Writes `reply` as is and closes the connection (for answers that break HTTP)."""
        self.close_connection = True
        try:
            self.wfile.write(reply)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up at its limit

    def start_chunked(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def huge(self):
        self.start_chunked("application/octet-stream")
        block = b"x" * 65536
        try:
            for _ in range(48):  # 3 MiB
                self.write_chunk(block)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client stopped at its cap

    def sse(self, events, comments=False, inbox=None, seconds=60):
        """Streams `events`, then holds the stream open for `seconds` or until the client goes away,
        sending `inbox` items as they come and (if `comments`) a comment every second."""
        global open_streams
        self.close_connection = True
        self.start_chunked("text/event-stream; charset=utf-8")
        with lock:
            open_streams += 1
        try:
            for event in events:
                self.write_chunk(event)
            deadline = time.monotonic() + seconds
            next_comment = time.monotonic()
            while time.monotonic() < deadline:
                if comments and time.monotonic() >= next_comment:
                    self.write_chunk(b": still here\n\n")
                    next_comment += 1
                if inbox is not None:
                    try:
                        self.write_chunk(inbox.get_nowait())
                    except queue.Empty:
                        pass
                readable, _, _ = select.select([self.request], [], [], 0.02)
                if readable and not self.request.recv(1):
                    return
        except OSError:
            return
        finally:
            with lock:
                open_streams -= 1

    def sse_session(self, ref, garbage=False, wrong_id=""):
        sid = str(next(session_ids))
        inbox = queue.Queue()
        with lock:
            sessions[sid] = (inbox, wrong_id)
        path = f"messages?session_id={sid}"
        data = {"root": "/mnt/" + path, "relative": path,
                "absolute": f"{self.scheme()}://127.0.0.1:{self.server.server_port}/{path}",
                "other-origin": f"{self.scheme()}://localhost:{self.server.server_port}/{path}"}[ref]
        events = []
        if garbage:
            events.append(b"this line is not sse\n: a comment\nevent: noise\n\nretry: soon\ndata\n\n\x00\xff\xfe\n\n")
        events.append(b"event: endpoint\r\ndata: " + data.encode() + b"\r\n\r\n")
        try:
            self.sse(events, inbox=inbox)
        finally:
            with lock:
                sessions.pop(sid, None)

    def scheme(self):
        return "https" if isinstance(self.request, ssl.SSLSocket) else "http"

    def message(self, sid, body):
        message_auth.append("Authorization" in self.headers)
        with lock:
            inbox, wrong_id = sessions.get(sid, (None, ""))
        if inbox is None:
            self.simple(404, b"Could not find session\n")
            return
        try:
            request = json.loads(body)
        except ValueError:
            self.simple(400, b"invalid JSON\n")
            return
        if request.get("method") == "tools/list" and wrong_id == "malformed-tools":
            self.raw(MALFORMED["not-http"])
            return
        results = {"initialize": ({"protocolVersion": "2024-11-05", "capabilities": {},
                                   "serverInfo": {"name": "faults", "version": "0.1"}}, "wrong-id"),
                   "tools/list": ({"tools": []}, "wrong-tools-id")}
        if request.get("method") in results:
            result, wrong = results[request["method"]]
            reply = json.dumps({"jsonrpc": "2.0", "id": 999 if wrong_id == wrong else request.get("id"), "result": result})
            inbox.put(b"event: message\ndata: " + reply.encode() + b"\n\n")
        self.simple(202, b"Accepted")


if __name__ == "__main__":
    serve(Handler)
