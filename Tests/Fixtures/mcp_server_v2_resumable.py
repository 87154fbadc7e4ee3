# probe-agent test peer (repo fixture). MCP test server, Python `mcp` 2.x: SSE responses plus an in-memory EventStore, so that
# 2025-11-25 clients get SSE priming events (id + empty data + retry: 3000).
# Binds 127.0.0.1 only; keeps events in memory, writes no files.
# Usage: python server_v2_resumable.py [PORT]  (PORT defaults to $MCP_TEST_PORT, else 8706)
import itertools
import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http import EventMessage, EventStore

port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MCP_TEST_PORT", "8706"))


class MemStore(EventStore):
    def __init__(self):
        self.events, self.ids = [], itertools.count(1)

    async def store_event(self, stream_id, message):
        eid = f"{stream_id}:{next(self.ids)}"
        self.events.append((eid, stream_id, message))
        return eid

    async def replay_events_after(self, last_event_id, send_callback):
        sid = next((s for e, s, _ in self.events if e == last_event_id), None)
        if sid is None:
            return None
        after = False
        for e, s, m in self.events:
            if after and s == sid and m is not None:
                await send_callback(EventMessage(m, e))
            after = after or e == last_event_id
        return sid


mcp = MCPServer("probe-test-resumable", version="0.0.1")


@mcp.tool()
def echo(text: str) -> str:
    return text


mcp.run("streamable-http", host="127.0.0.1", port=port, event_store=MemStore(), retry_interval=3000)
