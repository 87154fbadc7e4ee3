"""OAuth test peer for the auth tests: a token endpoint, Protected Resource Metadata and a 401
endpoint, all configurable at run time. Stdlib only; binds 127.0.0.1.

usage: oauth_server.py PORT

routes:
  POST /token                  client_credentials and refresh_token grants (form body)
  GET  any other path: PRM documents as configured under "prm" (404 when not), counted as "prm"
  ANY  /protected[/...]        401 with the configured WWW-Authenticate (none when null), counted as "protected"
  POST /_test/config           JSON merged into the configuration below; {"reset": true} first restores defaults
  GET  /_test/counts           {"client_credentials": N, "refresh_token": N, "prm": N, ...}
  GET  /_test/requests         token requests seen: [{"form": {...}, "authorization": "..."}]

"{base}" in configured strings is replaced by http://127.0.0.1:PORT.
"""
import base64
import copy
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus

DEFAULTS = {
    "client_id": "probe-client",
    "client_secret": "cc-secret-value",  # None: public client (refresh grant without Basic auth)
    "access_token": "good-token",        # "{n}" becomes the number of tokens issued so far
    "token_type": "Bearer",
    "expires_in": 3600,                  # None: omitted
    "refresh_tokens": ["refresh-1"],     # refresh tokens currently valid
    "rotate_refresh": False,             # issue a new refresh token on each refresh ("refresh-{n}")
    "fail": None,                        # invalid_client | invalid_grant | server_error | bad_gateway | garbage
                                         # | http_500 (plain text) | no_access_token (200 JSON without it)
    "delay": 0.0,                        # seconds before answering /token
    "prm": {},                           # well-known path -> {"status": int, "body": obj, "location": str,
                                         #                     "cache_control": str}
    "www_authenticate": None,            # header value for /protected
}

lock = threading.Lock()
config = copy.deepcopy(DEFAULTS)
counts = {}
requests = []
issued = [0]


def expand(value, base):
    if isinstance(value, str):
        return value.replace("{base}", base)
    if isinstance(value, list):
        return [expand(v, base) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, base) for k, v in value.items()}
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_test/counts":
            with lock:
                return self.send_json(200, dict(counts))
        if path == "/_test/requests":
            with lock:
                return self.send_json(200, list(requests))
        if path.startswith("/protected"):
            return self.unauthorized()
        self.prm(self.path)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path == "/_test/config":
            update = json.loads(body or b"{}")
            with lock:
                if update.pop("reset", False):
                    config.clear()
                    config.update(copy.deepcopy(DEFAULTS))
                    counts.clear()
                    requests.clear()
                    issued[0] = 0
                config.update(update)
            return self.send_json(200, {"ok": True})
        if path == "/token":
            return self.token(body)
        if path.startswith("/protected"):
            return self.unauthorized()
        self.send_json(404, {"error": "not_found"})

    def count(self, name):
        counts[name] = counts.get(name, 0) + 1

    def token(self, body):
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        authorization = self.headers.get("Authorization")
        with lock:
            grant = form.get("grant_type", "")
            self.count(grant or "unknown_grant")
            requests.append({"form": form, "authorization": authorization,
                             "content_type": self.headers.get("Content-Type")})
            cfg = copy.deepcopy(config)
        if cfg["delay"]:
            time.sleep(cfg["delay"])
        fail = cfg["fail"]
        if fail == "server_error":
            return self.send_json(500, {"error": "server_error"})
        if fail == "http_500":
            return self.send_raw(500, b"internal error: client_secret=cc-secret-value", "text/plain")
        if fail == "no_access_token":
            return self.send_json(200, {"token_type": "Bearer", "expires_in": 3600, "note": "cc-secret-value"})
        if fail == "bad_gateway":
            return self.send_raw(502, b"bad gateway", "text/plain")
        if fail == "garbage":
            return self.send_raw(200, b"<html>not json</html>", "text/html")
        if fail == "invalid_client" or not self.client_ok(cfg, form, authorization, grant):
            return self.send_json(401, {"error": "invalid_client", "error_description": "client authentication failed"})
        with lock:
            if grant == "client_credentials":
                pass
            elif grant == "refresh_token":
                if fail == "invalid_grant" or form.get("refresh_token") not in config["refresh_tokens"]:
                    return self.send_json(400, {"error": "invalid_grant", "error_description": "refresh token invalid"})
            else:
                return self.send_json(400, {"error": "unsupported_grant_type"})
            issued[0] += 1
            refresh = None
            if grant == "refresh_token" and cfg["rotate_refresh"]:
                refresh = f"refresh-{issued[0] + 1}"
                config["refresh_tokens"] = [refresh]
            answer = {"access_token": cfg["access_token"].replace("{n}", str(issued[0])), "token_type": cfg["token_type"]}
        if cfg["expires_in"] is not None:
            answer["expires_in"] = cfg["expires_in"]
        if refresh:
            answer["refresh_token"] = refresh
        self.send_json(200, answer, extra=[("Cache-Control", "no-store")])

    @staticmethod
    def client_ok(cfg, form, authorization, grant):
        """client_secret_basic when the client has a secret; a public client names itself in the body."""
        if cfg["client_secret"] is None:
            return grant == "refresh_token" and form.get("client_id") == cfg["client_id"] and authorization is None
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except Exception:
            return False
        if "client_secret" in form:  # one authentication method per request (RFC 6749 §2.3)
            return False
        return unquote_plus(user) == cfg["client_id"] and unquote_plus(password) == cfg["client_secret"]

    def prm(self, raw_path):
        path = raw_path.split("#", 1)[0]
        with lock:
            self.count("prm")
            entry = expand(config["prm"].get(path), self.base)
        if entry is None:
            return self.send_json(404, {"error": "not_found"})
        if "location" in entry:
            return self.send_raw(entry.get("status", 302), b"", "text/plain", extra=[("Location", entry["location"])])
        if "raw" in entry:
            return self.send_raw(entry.get("status", 200), entry["raw"].encode(), "application/json")
        extra = [("Cache-Control", entry["cache_control"])] if "cache_control" in entry else []
        self.send_json(entry.get("status", 200), entry.get("body", {}), extra=extra)

    def unauthorized(self):
        with lock:
            header = expand(config["www_authenticate"], self.base)
            self.count("protected")
        extra = [("WWW-Authenticate", header)] if header is not None else []
        self.send_json(401, {"error": "unauthorized"}, extra=extra)

    def send_json(self, status, obj, extra=()):
        self.send_raw(status, json.dumps(obj).encode(), "application/json", extra)

    def send_raw(self, status, body, content_type, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    # Spawned from a Swift concurrency thread, we inherit its blocked signals; stop() needs SIGTERM.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
