"""OTLP/HTTP test receiver: decodes with the official protos, records what arrived, and can
play scripted faults.

Usage: otlp_receiver.py PORT [--discard] [--tls CERT KEY [--client-ca CA]]

POST /v1/traces, /v1/metrics (any other POST path: metrics if it contains "metrics", else traces)
    Decodes by Content-Type (protobuf or JSON, gunzipping Content-Encoding: gzip) and records
    {"path", "headers", "time", "size", "decoded" | "error", "scripted"} in order of arrival.
    Trace/span ids in "decoded" are lowercase hex, whatever the encoding.
GET /received      -> JSON list of records      DELETE /received -> clears it
POST /_script      -> JSON list of responses for the next export requests, each with optional
    "status" (200), "headers" {}, "body" (text), "partial": {"rejected": N, "message": "..."},
    "rpc_message": "..." (a google.rpc.Status body in the request's encoding), "delay" (s),
    "reset": true (abort the connection), "huge": N (an N-byte body).
POST /_script/clear -> drops what is left of the script: export requests are accepted again.
--discard: answer 200 to every POST without decoding or recording (benchmarks).
--tls: HTTPS with this certificate; --client-ca: and require a client certificate issued by CA (mTLS).
"""
import base64
import gzip
import json
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

ID_KEYS = {"traceId", "spanId", "parentSpanId"}
LOCK = threading.Lock()
RECEIVED = []
SCRIPT = []
DISCARD = "--discard" in sys.argv


def convert_ids(node, convert):
    """Applies convert to every trace/span id value in a decoded OTLP dict."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_KEYS and isinstance(value, str):
                node[key] = convert(value)
            else:
                convert_ids(value, convert)
    elif isinstance(node, list):
        for item in node:
            convert_ids(item, convert)


def hex_to_b64(value):
    return base64.b64encode(bytes.fromhex(value)).decode() if value else value


def b64_to_hex(value):
    return base64.b64decode(value).hex()


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, body, content_type="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        if self.path == "/received":
            with LOCK:
                body = json.dumps(RECEIVED).encode()
            self.send_body(200, body)
        else:
            self.send_body(404, b"{}")

    def do_DELETE(self):
        with LOCK:
            RECEIVED.clear()
        self.send_body(200, b"{}")

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_script":
            with LOCK:
                SCRIPT.extend(json.loads(body))
            self.send_body(200, b"{}")
            return
        if self.path == "/_script/clear":
            with LOCK:
                SCRIPT.clear()
            self.send_body(200, b"{}")
            return
        if DISCARD:
            self.send_body(200, b"", "application/x-protobuf")
            return
        is_metrics = "metrics" in self.path
        content_type = (self.headers.get("Content-Type") or "").lower()
        is_json = "json" in content_type
        record = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "time": time.monotonic(),
            "size": len(body),
        }
        try:
            record["decoded"] = self.decode(body, is_metrics, is_json)
        except Exception as e:  # noqa: BLE001 - reported to the test
            record["error"] = "%s: %s" % (type(e).__name__, e)
        with LOCK:
            step = SCRIPT.pop(0) if SCRIPT else None
            record["scripted"] = step
            RECEIVED.append(record)
        self.respond(step, is_metrics, is_json, "error" in record)

    def decode(self, body, is_metrics, is_json):
        if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        message = (metrics_service_pb2.ExportMetricsServiceRequest() if is_metrics
                   else trace_service_pb2.ExportTraceServiceRequest())
        if is_json:
            # OTLP/JSON ids are hex; json_format expects base64 (the Collector converts too).
            doc = json.loads(body)
            convert_ids(doc, hex_to_b64)
            json_format.Parse(json.dumps(doc), message)
        else:
            message.ParseFromString(body)
        decoded = json_format.MessageToDict(message, use_integers_for_enums=True)
        convert_ids(decoded, b64_to_hex)
        return decoded

    def respond(self, step, is_metrics, is_json, failed):
        content_type = "application/json" if is_json else "application/x-protobuf"
        if step is None:
            if failed:
                self.send_rpc_status(400, "could not decode the request", is_json, {})
            else:
                self.send_body(200, b"{}" if is_json else b"", content_type)
            return
        if step.get("delay"):
            time.sleep(step["delay"])
        if step.get("reset"):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        status = step.get("status", 200)
        headers = step.get("headers", {})
        if "huge" in step:
            self.send_body(status, b"x" * step["huge"], content_type, headers)
        elif "partial" in step:
            self.send_partial(step["partial"], is_metrics, is_json, headers)
        elif "rpc_message" in step:
            self.send_rpc_status(status, step["rpc_message"], is_json, headers)
        else:
            self.send_body(status, step.get("body", "").encode(), content_type, headers)

    def send_partial(self, partial, is_metrics, is_json, headers):
        if is_metrics:
            response = metrics_service_pb2.ExportMetricsServiceResponse()
            response.partial_success.rejected_data_points = partial.get("rejected", 0)
        else:
            response = trace_service_pb2.ExportTraceServiceResponse()
            response.partial_success.rejected_spans = partial.get("rejected", 0)
        response.partial_success.error_message = partial.get("message", "")
        if is_json:
            self.send_body(200, json_format.MessageToJson(response).encode(), "application/json", headers)
        else:
            self.send_body(200, response.SerializeToString(), "application/x-protobuf", headers)

    def send_rpc_status(self, status, message, is_json, headers):
        if is_json:
            self.send_body(status, json.dumps({"code": 3, "message": message}).encode(), "application/json", headers)
        else:
            text = message.encode()
            body = b"\x08\x03" + b"\x12" + varint(len(text)) + text  # google.rpc.Status{code, message}
            self.send_body(status, body, "application/x-protobuf", headers)


def main():
    # A child spawned from a Swift concurrency (dispatch) thread inherits its blocked signal mask;
    # unblock so the test's SIGTERM stops us.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # refused handshakes are what mTLS tests expect
    if "--tls" in sys.argv:
        at = sys.argv.index("--tls")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[at + 1], sys.argv[at + 2])
        if "--client-ca" in sys.argv:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(sys.argv[sys.argv.index("--client-ca") + 1])
        # Handshakes run in the request threads, so a client that never finishes one cannot stall accept().
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.serve_forever()


if __name__ == "__main__":
    main()
