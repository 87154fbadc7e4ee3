"""HTTP/1.1 fixture for the HTTPClient tests. Stdlib only; binds 127.0.0.1.

usage: http_server.py PORT [--tls CERT KEY] [--instance ID] [--uptime N] [--token T] [--document-delay S]
       http_server.py PORT --blackhole     (accepts connections and never answers)

routes: /status/N /echo /bytes/N /chunked/N /gzip/N /sse/endpoint /sse/silent /slow-headers/SECONDS
        /redirect/N /location?to=URL /garbage /reset /stats (open SSE streams, slow requests waiting, requests served before)
        /instance (the restart identity, fixture_serving.Instance: JSON and X-Instance-Id, no auth)
        /_test/instance /_test/instance-stats (its document, see fixture_serving.Instance)
"""
import gzip
import itertools
import json
import select
import zlib
import socket
import struct
import sys
import threading
import time

from fixture_serving import Instance, RoutedHandler, serve
from urllib.parse import parse_qs, urlsplit


open_streams = 0
slow_waiting = 0
open_streams_lock = threading.Lock()
requests_served = itertools.count()
instance = Instance(sys.argv)


class Handler(RoutedHandler):
    def route(self):
        served = next(requests_served)
        body = self.read_body()
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        name, arg = parts[0], (parts[1] if len(parts) > 1 else "")
        routes = {
            "status": lambda: self.simple(int(arg), f"status {arg}\n".encode()),
            "echo": lambda: self.echo(body),
            "bytes": lambda: self.simple(200, bytes(i % 256 for i in range(int(arg))), "application/octet-stream"),
            "chunked": lambda: self.chunked(int(arg)),
            "sse": lambda: self.sse(arg),
            "slow-headers": lambda: self.slow_headers(float(arg)),
            "redirect": lambda: self.redirect(int(arg)),
            "location": lambda: self.simple(307, b"", extra=[("Location", self.query("to"))]),
            "gzip": lambda: self.gzipped(int(arg)),
            "stats": lambda: self.simple(200, json.dumps({"open_streams": open_streams, "slow_waiting": slow_waiting, "requests": served}).encode(),
                                         "application/json"),
            "garbage": self.garbage,
            "reset": self.reset,
            "instance": lambda: self.json(200, instance.body()),
            "_test": lambda: self.instance_document(arg),
        }
        handler = routes.get(name)
        if handler is None:
            self.simple(404, b"not found\n")
        else:
            handler()

    def query(self, name):
        return parse_qs(urlsplit(self.path).query).get(name, [""])[0]

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def simple(self, status, body, content_type="text/plain", extra=()):
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        if status in (204, 304) or status < 200:
            self.end_headers()
            return
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def json(self, status, obj):
        self.simple(status, json.dumps(obj).encode(), "application/json", extra=[(Instance.header, instance.id)])

    def instance_document(self, name):
        if name == "instance-stats":
            return self.json(200, instance.stats())
        if name != "instance":
            return self.simple(404, b"not found\n")
        time.sleep(instance.document_delay)
        self.json(*instance.document(self.headers.get("Authorization")))

    def echo(self, body):
        reply = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_hex": body.hex() if len(body) <= 65536 else "",
            "body_len": len(body),
            "body_crc32": zlib.crc32(body),
            "client_port": self.client_address[1],
        }
        self.simple(200, json.dumps(reply).encode(), "application/json")

    def gzipped(self, n):
        body = b"z" * n
        if "gzip" in (self.headers.get("Accept-Encoding") or ""):
            self.simple(200, gzip.compress(body), extra=[("Content-Encoding", "gzip")])
        else:
            self.simple(200, body)

    def start_chunked(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def chunked(self, count):
        self.start_chunked("application/octet-stream")
        for i in range(count):
            if i:
                time.sleep(0.1)
            self.write_chunk(bytes([i % 256]) * 1024)
        self.wfile.write(b"0\r\n\r\n")

    def sse(self, kind):
        self.start_chunked("text/event-stream")
        if kind == "endpoint":
            self.write_chunk(b"event: endpoint\ndata: /messages/?session_id=abc\n\n")
        self.close_connection = True
        self.hold_open(30)

    def hold_open(self, seconds):
        """Sends nothing for `seconds`, or until the client goes away (counted in /stats)."""
        global open_streams
        with open_streams_lock:
            open_streams += 1
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                readable, _, _ = select.select([self.request], [], [], 0.05)
                if readable and not self.request.recv(1):
                    return
        except OSError:
            return
        finally:
            with open_streams_lock:
                open_streams -= 1

    def slow_headers(self, seconds):
        """Answers after `seconds`; while it waits the request counts in /stats `slow_waiting`."""
        global slow_waiting
        with open_streams_lock:
            slow_waiting += 1
        try:
            time.sleep(seconds)
        finally:
            with open_streams_lock:
                slow_waiting -= 1
        self.simple(200, b"slow\n")

    def redirect(self, n):
        target = "/status/200" if n <= 1 else f"/redirect/{n - 1}"
        self.simple(307, b"", extra=[("Location", target)])

    def garbage(self):
        self.wfile.write(b"\x00\x01\x02 this is not HTTP at all\r\n\r\n")
        self.close_connection = True

    def reset(self):
        # SO_LINGER 0 makes close() send RST instead of FIN.
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.request.close()
        self.close_connection = True


if __name__ == "__main__":
    serve(Handler)
