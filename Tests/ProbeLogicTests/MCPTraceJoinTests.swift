import Foundation
import HTTPClient
import TestSupport
import Tracing
import XCTest
@testable import ProbeLogic

/// The probe's trace joins the MCP server's own: every JSON-RPC message gets an MCP CLIENT span
/// (OpenTelemetry's MCP conventions) whose context rides in `params._meta`, where the SDKs read
/// it. The server here is the official SDK (mcp 2.x, its own OpenTelemetry middleware) exporting
/// its spans to the test receiver, which decodes them with the official protos.
final class MCPTraceJoinTests: XCTestCase {
    func testServerSpansJoinTheProbesTraceUnderItsMCPSpans() async throws {
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        defer { receiver.stop() }
        let server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}", "--otlp", receiver.baseURL])
        defer { server.stop() }
        let deep = DeepCheck(listTools: true, toolCall: ToolCall(name: "echo", argumentsJSON: #"{"text":"joined"}"#, expectContains: "joined"))
        let target = Target(name: "joined", url: server.baseURL + "/mcp",
                            kind: .mcp(MCPOptions(transport: .streamableHTTP, sendInitialized: true, deep: deep)), timeout: .seconds(10))
        let (run, spans) = await ProbeHarness().run(target)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)

        // Ours: one MCP CLIENT span per message under the root, each the parent of its HTTP POST.
        let root = try XCTUnwrap(spans.first { $0.name == "probe" })
        let mcp = spans.mcpClients
        XCTAssertEqual(mcp.map(\.name), ["initialize", "notifications/initialized", "tools/list", "tools/call echo"])
        for span in mcp {
            XCTAssertEqual(span.parentSpanID, root.context.spanID, span.name)
            XCTAssertEqual(spans.httpClients.filter { $0.parentSpanID == span.context.spanID }.map(\.name), ["POST"], span.name)
            XCTAssertEqual(span.attributes["mcp.protocol.version"], .string(MCPMessages.handshakeProtocolVersion), span.name)
            XCTAssertEqual(span.attributes["server.address"], "127.0.0.1", span.name)
            XCTAssertEqual(span.attributes["network.transport"], "tcp", span.name)
            XCTAssertNil(span.attributes["mcp.session.id"], "the session id is never recorded")
            XCTAssertNil(span.attributes["error.type"], span.name)
        }
        XCTAssertEqual(mcp.map { $0.attributes["jsonrpc.request.id"] }, ["1", nil, "2", "3"])
        XCTAssertEqual(mcp.last?.attributes["gen_ai.tool.name"], "echo")
        XCTAssertEqual(mcp.last?.attributes["gen_ai.operation.name"], "execute_tool")

        // What the server received: `_meta.traceparent` of each message names its MCP span.
        let received = try await getJSON(server.baseURL + "/_test/requests") as? [[String: Any]] ?? []
        let posts = received.filter { $0["method"] as? String == "POST" }
        XCTAssertEqual(posts.map { $0["rpc"] as? String }, ["initialize", "notifications/initialized", "tools/list", "tools/call"])
        for (index, post) in posts.enumerated() {
            let meta = try XCTUnwrap(post["meta_traceparent"] as? String, "_meta.traceparent of POST \(index)")
            let context = try XCTUnwrap(W3CTraceContext.parse(traceparent: meta))
            XCTAssertEqual(context.traceID, run.traceID)
            if index < mcp.count { XCTAssertEqual(context.spanID, mcp[index].context.spanID, mcp[index].name) }
        }

        // The server's own spans: in the probe's trace, children of our MCP CLIENT spans.
        var serverSpans: [[String: Any]] = []
        for _ in 0..<100 where serverSpans.count < 4 {
            serverSpans = try await exportedSpans(receiver).filter { $0["traceId"] as? String == run.traceID.hex }
            if serverSpans.count < 4 { try await Task.sleep(for: .milliseconds(50)) }
        }
        XCTAssertEqual(Set(serverSpans.compactMap { $0["name"] as? String }),
                       ["initialize", "notifications/initialized", "tools/list", "tools/call echo"], "the server's spans in our trace")
        for span in mcp {
            let joined = serverSpans.first { $0["parentSpanId"] as? String == span.context.spanID.hex }
            XCTAssertEqual(joined?["name"] as? String, span.name, "the server's span for \(span.name)")
            XCTAssertEqual(joined?["kind"] as? Int, 2, "SPAN_KIND_SERVER: \(span.name)")
        }
    }

    /// `mcp.client.operation.duration`: one point per operation, with the span's attributes, the
    /// convention's bucket bounds, and the target; it leaves with the target.
    func testOperationDurationHistogram() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        defer { server.stop() }
        let registry = MetricsRegistry(scope: .test)
        let metrics = ProbeMetrics(registry: registry)
        let runner = ProbeRunner(client: HTTPClient.shared, tracer: Tracer(scope: .test, processor: SimpleSpanProcessor(exporter: SpanSink())),
                                 clientVersion: "test", metrics: metrics)
        let target = Target(name: "timed", url: server.baseURL + "/mcp",
                            kind: .mcp(MCPOptions(transport: .streamableHTTP, deep: DeepCheck())), timeout: .seconds(10))
        let run = await runner.run(target)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        let histogram = try XCTUnwrap(registry.collect().first { $0.name == "mcp.client.operation.duration" })
        XCTAssertEqual(histogram.unit, "s")
        guard case .histogram(let points, _) = histogram.points else { return XCTFail("not a histogram") }
        XCTAssertEqual(Set(points.compactMap { $0.attributes["mcp.method.name"]?.stringValue }), ["initialize", "tools/list"])
        for point in points {
            XCTAssertEqual(point.explicitBounds, [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300])
            XCTAssertEqual(point.count, 1)
            XCTAssertEqual(point.attributes["probe.target"], "timed")
            XCTAssertEqual(point.attributes["mcp.protocol.version"], .string(MCPMessages.handshakeProtocolVersion))
            XCTAssertNil(point.attributes["jsonrpc.request.id"], "no per-request id on a metric")
        }
        metrics.remove(target: "timed")
        XCTAssertTrue(registry.collect().filter { $0.name == "mcp.client.operation.duration" }.allSatisfy {
            if case .histogram(let points, _) = $0.points { points.isEmpty } else { false }
        })
    }

    /// Every span the receiver decoded (OTLP/JSON field names, ids in hex).
    func exportedSpans(_ receiver: FixtureServer) async throws -> [[String: Any]] {
        let records = try await getJSON(receiver.baseURL + "/received") as? [[String: Any]] ?? []
        return records.compactMap { $0["decoded"] as? [String: Any] }
            .flatMap { $0["resourceSpans"] as? [[String: Any]] ?? [] }
            .flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }
            .flatMap { $0["spans"] as? [[String: Any]] ?? [] }
    }
}
