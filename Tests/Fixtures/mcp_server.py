# probe-agent test peer: an MCP server from the official Python `mcp` SDK (2.x MCPServer, or 1.x
# FastMCP when run with an mcp 1.x interpreter), wrapped in a small ASGI recorder so tests can see
# what the probe sent. Binds 127.0.0.1 only; writes no files.
#
# Usage: python mcp_server.py MODE PORT [--tls CERT KEY [--h2]] [--otlp URL]   (--h2: HTTP/2 by ALPN, through hypercorn;
#   --otlp: the SDK's own spans, exported over OTLP/HTTP to URL/v1/traces, mcp 2.x only)
#                            [--instance ID] [--uptime N] [--token T]   (restart identity, below)
#   MODE: json | sse | stateless | legacy-sse | resumable | auth
# Test-only routes (outside the MCP app):
#   GET /_test/requests  -> JSON list of {method, path, headers, rpc, meta_traceparent} the MCP app received
#   GET /_test/sessions  -> {"open": N} sessions the server's session manager holds now
#   GET /_test/instance, /_test/instance-stats -> the restart identity's document (fixture_serving.Instance)
# With --instance or --uptime, every response carries X-Instance-Id and the initialize answer's
# `instructions` is the uptime when --uptime is given, else the instance ID.
import asyncio
import itertools
import json
import signal
import sys

# A parent started from a thread with blocked signals passes its mask on; unblock so we can be stopped.
signal.pthread_sigmask(signal.SIG_SETMASK, [])

import uvicorn

if "--otlp" in sys.argv:  # before the SDK creates its tracer: every server span goes to the receiver
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "mcp-test-server"}))
    provider.add_span_processor(SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=sys.argv[sys.argv.index("--otlp") + 1] + "/v1/traces")))
    trace.set_tracer_provider(provider)

from fixture_serving import Instance

mode, port = sys.argv[1], int(sys.argv[2])
RESOURCE = f"http://127.0.0.1:{port}/mcp"
instance = Instance(sys.argv)

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer as Server
    MAJOR = 2
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as Server
    MAJOR = 1

kwargs = {}
if mode == "auth":
    from mcp.server.auth.provider import AccessToken
    from mcp.server.auth.settings import AuthSettings

    class StaticVerifier:
        async def verify_token(self, token):
            if token == "good-token":
                return AccessToken(token=token, client_id="probe", scopes=["mcp:read"], resource=RESOURCE)
            if token == "weak-token":
                return AccessToken(token=token, client_id="probe", scopes=[], resource=RESOURCE)
            return None

    kwargs = dict(token_verifier=StaticVerifier(),
                  auth=AuthSettings(issuer_url="https://auth.example.com", resource_server_url=RESOURCE,
                                    required_scopes=["mcp:read"], validate_token_resource=True))

if instance.given:
    kwargs["instructions"] = str(instance.start_uptime) if "--uptime" in sys.argv else instance.id

if MAJOR == 2:
    server = Server("probe-test", version="0.0.1", **kwargs)
else:
    server = Server("probe-test", host="127.0.0.1", port=port,
                    json_response=mode in ("json", "stateless", "auth"),
                    stateless_http=mode == "stateless", **kwargs)


@server.tool()
def echo(text: str) -> str:
    return text


if mode == "legacy-sse":
    app = server.sse_app() if MAJOR == 2 else server.sse_app()
elif MAJOR == 2:
    extra = {}
    if mode == "resumable":
        from mcp.server.streamable_http import EventMessage, EventStore

        class MemStore(EventStore):
            def __init__(self):
                self.events, self.ids = [], itertools.count(1)

            async def store_event(self, stream_id, message):
                eid = f"{stream_id}:{next(self.ids)}"
                self.events.append((eid, stream_id, message))
                return eid

            async def replay_events_after(self, last_event_id, send_callback):
                return None

        extra = dict(event_store=MemStore(), retry_interval=3000)
    app = server.streamable_http_app(json_response=mode in ("json", "stateless", "auth"),
                                     stateless_http=mode == "stateless", **extra)
else:
    app = server.streamable_http_app()

recorded = []
RECORDED_HEADERS = ("traceparent", "tracestate", "mcp-session-id", "mcp-protocol-version",
                    "authorization", "user-agent", "accept", "content-type", "origin")


def open_sessions():
    mgr = getattr(server, "_session_manager", None) or getattr(getattr(server, "_lowlevel_server", None), "_session_manager", None)
    if mgr is None:
        return 0
    return len(getattr(mgr, "_server_instances", {}))


async def recorder(scope, receive, send):
    if instance.given and scope["type"] == "http":
        send = with_instance_header(send)
    if scope["type"] == "http" and scope["path"].startswith("/_test/"):
        status = 200
        if scope["path"] == "/_test/instance":
            await asyncio.sleep(instance.document_delay)
            authorization = dict(scope["headers"]).get(b"authorization", b"").decode() or None
            status, document = instance.document(authorization)
            body = json.dumps(document).encode()
        elif scope["path"] == "/_test/instance-stats":
            body = json.dumps(instance.stats()).encode()
        elif scope["path"] == "/_test/requests":
            body = json.dumps(recorded).encode()
        elif scope["path"] == "/_test/sessions":
            body = json.dumps({"open": open_sessions()}).encode()
        else:
            body = b"{}"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    if scope["type"] == "http":
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        entry = {"method": scope["method"], "path": scope["path"],
                 "headers": {k: v for k, v in headers.items() if k in RECORDED_HEADERS}}
        recorded.append(entry)
        if scope["method"] == "POST":
            # Read the body to record its JSON-RPC method, then replay it to the app.
            chunks, more = [], True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            try:
                message = json.loads(body)
                entry["rpc"] = message.get("method")
                entry["meta_traceparent"] = ((message.get("params") or {}).get("_meta") or {}).get("traceparent")
            except Exception:
                entry["rpc"] = None
            replayed = False

            async def replay():
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await app(scope, replay, send)
            return
    await app(scope, receive, send)


def with_instance_header(send):
    async def sending(message):
        if message["type"] == "http.response.start":
            message = dict(message, headers=list(message.get("headers", [])) + [(Instance.header.encode(), instance.id.encode())])
        await send(message)
    return sending


tls = {}
if "--tls" in sys.argv:
    at = sys.argv.index("--tls")
    tls = dict(ssl_certfile=sys.argv[at + 1], ssl_keyfile=sys.argv[at + 2])
if "--h2" in sys.argv:  # with --tls: HTTP/2 offered by ALPN, through hypercorn
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = tls["ssl_certfile"], tls["ssl_keyfile"]
    config.alpn_protocols = ["h2", "http/1.1"]
    config.loglevel = "WARNING"
    asyncio.run(serve(recorder, config))
else:
    uvicorn.run(recorder, host="127.0.0.1", port=port, log_level="warning", **tls)
