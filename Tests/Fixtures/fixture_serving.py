"""Serving loop shared by the stdlib test peers (http_server.py, faults_server.py):
`PORT [--tls CERT KEY] [--blackhole] [--ipv6]`, on 127.0.0.1 (or ::1 with --ipv6) only.
Also the restart identity every peer kind can show (`Instance`)."""
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RoutedHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, quiet, TLS handshake in the handler thread, every method to `self.route()`."""
    protocol_version = "HTTP/1.1"

    def setup(self):
        # TLS handshake in the handler thread, so a slow or failing client never blocks accept().
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.route()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET


def flag(argv, name, default=None):
    """The value after `name` in argv, or `default`."""
    return argv[argv.index(name) + 1] if name in argv else default


class Instance:
    """What a restart changes, for restart-detection tests: `--instance ID` (default i-1) and
    `--uptime N` (seconds at start, default 100, growing by one a second). A test restarts the
    peer on the same port with another ID and a smaller uptime.

    Its document, `GET /_test/instance` on every peer kind: {"instance": ID, "uptime": N} with
    header X-Instance-Id; with `--token T` it answers 401 unless `Authorization: Bearer T`;
    `--document-delay S` answers after S seconds. `GET /_test/instance-stats`:
    {"authorized": N, "refused": N} document requests answered 200 and 401."""
    header = "X-Instance-Id"

    def __init__(self, argv):
        self.given = "--instance" in argv or "--uptime" in argv
        self.id = flag(argv, "--instance", "i-1")
        self.start_uptime = int(flag(argv, "--uptime", "100"))
        self.token = flag(argv, "--token")
        self.document_delay = float(flag(argv, "--document-delay", "0"))
        self.started = time.monotonic()
        self.counts = {"authorized": 0, "refused": 0}
        self.lock = threading.Lock()

    def uptime(self):
        return self.start_uptime + int(time.monotonic() - self.started)

    def body(self):
        return {"instance": self.id, "uptime": self.uptime()}

    def document(self, authorization):
        """(status, JSON object) for a document request with this Authorization header value."""
        allowed = self.token is None or authorization == f"Bearer {self.token}"
        with self.lock:
            self.counts["authorized" if allowed else "refused"] += 1
        if not allowed:
            return 401, {"error": "unauthorized"}
        return 200, self.body()

    def stats(self):
        with self.lock:
            return dict(self.counts)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # clients that reset, time out or reject our certificate are expected here


class Server6(Server):
    address_family = socket.AF_INET6


def blackhole(port):
    """Accepts connections and never answers (a target that hangs)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(256)
    held = []
    while True:
        conn, _ = listener.accept()
        held.append(conn)


def serve(handler):
    # Spawned from a Swift concurrency thread, we inherit its blocked signals; stop() needs them.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    args = sys.argv[1:]
    port = int(args[0])
    if "--blackhole" in args:
        blackhole(port)
        return
    host = "::1" if "--ipv6" in args else "127.0.0.1"
    server = (Server6 if host == "::1" else Server)((host, port), handler)
    if "--tls" in args:
        i = args.index("--tls")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args[i + 1], args[i + 2])
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    print(f"listening on {host} port {port}", flush=True)
    server.serve_forever()
