"""ASGI wrapper shared by the SDK-based MCP test peers (mcp_server.py, fastmcp_server.py): records
every HTTP request the MCP app receives (method, path, a few headers, the JSON-RPC method of a
POST) and serves test-only routes outside the app.

    GET /_test/requests -> JSON list of {method, path, headers, rpc, params, meta_traceparent} the app received
    GET /_test/<name>   -> routes[name](scope), an awaitable giving (status, JSON-able object)
"""
import json

RECORDED_HEADERS = ("traceparent", "tracestate", "mcp-session-id", "mcp-protocol-version", "mcp-method", "mcp-name",
                    "authorization", "user-agent", "accept", "content-type", "origin")


def recording(app, routes=None, wrap_send=None):
    """The ASGI app that records what reaches `app`; `wrap_send` (optional) wraps every response."""
    recorded = []
    routes = dict(routes or {})

    async def requests(scope):
        return 200, recorded

    routes.setdefault("requests", requests)

    async def recorder(scope, receive, send):
        if wrap_send and scope["type"] == "http":
            send = wrap_send(send)
        if scope["type"] == "http" and scope["path"].startswith("/_test/"):
            route = routes.get(scope["path"][len("/_test/"):])
            status, document = await route(scope) if route else (200, {})
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": json.dumps(document).encode()})
            return
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        entry = {"method": scope["method"], "path": scope["path"],
                 "headers": {k: v for k, v in headers.items() if k in RECORDED_HEADERS}}
        recorded.append(entry)
        if scope["method"] != "POST":
            await app(scope, receive, send)
            return
        # Read the body to record its JSON-RPC method and params, then replay it to the app.
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            decoded = json.loads(body)
            entry["rpc"] = decoded.get("method")
            entry["params"] = decoded.get("params")
            entry["meta_traceparent"] = ((decoded.get("params") or {}).get("_meta") or {}).get("traceparent")
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

    return recorder
