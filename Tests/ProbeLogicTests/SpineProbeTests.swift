import Foundation
import HTTPClient
import ProbeLogic
import Synchronization
import TestSupport
import Tracing
import XCTest

/// Keeps exported spans for assertions.
final class SpanSink: SpanExporter {
    private let stored = Mutex<[SpanData]>([])
    var spans: [SpanData] { stored.withLock { $0 } }
    func export(_ batch: [SpanData]) async -> ExportResult {
        stored.withLock { $0.append(contentsOf: batch) }
        return .success
    }
}

extension Array where Element == SpanData {
    /// The HTTP CLIENT spans (one per exchange), without the MCP CLIENT spans above them.
    var httpClients: [SpanData] { filter { $0.kind == .client && $0.attributes["http.request.method"] != nil } }
    /// The MCP CLIENT spans (one per JSON-RPC message).
    var mcpClients: [SpanData] { filter { $0.kind == .client && $0.attributes["mcp.method.name"] != nil } }
}

/// A probe runner whose spans land in a sink.
struct ProbeHarness {
    let sink = SpanSink()
    let processor: SimpleSpanProcessor
    let runner: ProbeRunner

    /// `oauth`: resolve credentials with the real OAuth store (token endpoints, stored tokens).
    init(oauth: Bool = false) {
        processor = SimpleSpanProcessor(exporter: sink)
        let tracer = Tracer(scope: .test, processor: processor)
        let credentials: any CredentialSource = oauth
            ? OAuthCredentialStore(http: TracedHTTP(client: HTTPClient.shared, tracer: tracer, userAgent: "test"))
            : StaticCredentials()
        runner = ProbeRunner(client: HTTPClient.shared, tracer: tracer, clientVersion: "test", credentials: credentials)
    }

    func run(_ target: Target) async -> (ProbeRun, [SpanData]) {
        let run = await runner.run(target)
        await processor.forceFlush(deadline: .now + .seconds(5))
        return (run, sink.spans.filter { $0.context.traceID == run.traceID })
    }
}

func getJSON(_ url: String) async throws -> Any {
    let response = try await HTTPClient.shared.execute(HTTPRequest(url: url))
    return try JSONSerialization.jsonObject(with: Data(response.body))
}

/// The MCP test peer's record of the requests it received.
struct RecordedRequest {
    var method: String
    var path: String
    var headers: [String: String]
}

func recordedRequests(_ server: FixtureServer) async throws -> [RecordedRequest] {
    let list = try await getJSON(server.baseURL + "/_test/requests") as? [[String: Any]] ?? []
    return list.map { RecordedRequest(method: $0["method"] as? String ?? "", path: $0["path"] as? String ?? "",
                                      headers: $0["headers"] as? [String: String] ?? [:]) }
}

func openSessions(_ server: FixtureServer) async throws -> Int {
    (try await getJSON(server.baseURL + "/_test/sessions") as? [String: Any])?["open"] as? Int ?? -1
}

final class SpineProbeTests: XCTestCase {
    func mcpTarget(_ server: FixtureServer, name: String = "t") -> Target {
        Target(name: name, url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)), timeout: .seconds(10))
    }

    func testJSONServerIsHealthyAndSessionIsDeleted() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let (run, spans) = await ProbeHarness().run(mcpTarget(server, name: "json"))
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        XCTAssertEqual(run.report.httpStatus, 200)
        XCTAssertEqual(run.report.server?.serverName, "probe-test")
        XCTAssertEqual(run.report.server?.protocolVersion, "2025-11-25")

        let requests = try await recordedRequests(server)
        XCTAssertEqual(requests.map(\.method), ["POST", "DELETE"])
        let open = try await openSessions(server)
        XCTAssertEqual(open, 0, "the probe left a session open")
        let post = requests[0].headers
        XCTAssertNil(post["origin"])
        XCTAssertNil(post["mcp-protocol-version"], "initialize must not carry MCP-Protocol-Version")
        XCTAssertEqual(post["accept"], "application/json, text/event-stream")
        XCTAssertNotNil(requests[1].headers["mcp-session-id"])
        XCTAssertEqual(requests[1].headers["mcp-protocol-version"], "2025-11-25")

        // Root span + one CLIENT child per exchange, traceparent from the child.
        let root = try XCTUnwrap(spans.first { $0.name == "probe" })
        XCTAssertNil(root.parentSpanID)
        XCTAssertEqual(root.kind, .internal)
        XCTAssertEqual(root.status.code, .ok)
        XCTAssertEqual(root.attributes["health.status"], "healthy")
        XCTAssertEqual(root.attributes["health.probe_type"], "anonymous")
        XCTAssertEqual(root.attributes["mcp.transport"], "streamable_http")
        XCTAssertEqual(root.attributes["http.response.status_code"], .int(200))
        XCTAssertEqual(root.attributes["probe.target"], "json")
        XCTAssertEqual(root.attributes["server.address"], "127.0.0.1")
        XCTAssertEqual(root.attributes["server.port"], .int(server.port))
        XCTAssertEqual(root.attributes["mcp.server.name"], "probe-test")
        XCTAssertEqual(root.attributes["mcp.session.closed"], .bool(true))
        XCTAssertNil(root.attributes["error.type"])
        let clients = spans.httpClients
        XCTAssertEqual(clients.map(\.name), ["POST", "DELETE"])
        // MCP conventions: the JSON-RPC message's CLIENT span under the root, the HTTP POST under
        // it; the DELETE of the session is HTTP only.
        let initialize = try XCTUnwrap(spans.mcpClients.first)
        XCTAssertEqual(spans.mcpClients.map(\.name), ["initialize"])
        XCTAssertEqual(initialize.parentSpanID, root.context.spanID)
        XCTAssertEqual(clients.first?.parentSpanID, initialize.context.spanID)
        XCTAssertEqual(clients.last?.parentSpanID, root.context.spanID)
        let traceparent = try XCTUnwrap(post["traceparent"])
        let propagated = try XCTUnwrap(W3CTraceContext.parse(traceparent: traceparent))
        XCTAssertEqual(propagated.traceID, run.traceID)
        XCTAssertEqual(propagated.spanID, clients[0].context.spanID)
        XCTAssertTrue(clients[0].events.contains { $0.name == "connect" }, "phase events on the CLIENT span")
    }

    func testSSEAndPrimingAnswersAreHealthy() async throws {
        for mode in ["sse", "resumable"] {
            let server = try FixtureServer(script: "mcp_server.py", args: [mode, "{port}"])
            let (run, _) = await ProbeHarness().run(mcpTarget(server, name: mode))
            XCTAssertEqual(run.report.outcome.health, .healthy, "\(mode): \(run.report.outcome.message)")
            XCTAssertEqual(run.report.server?.serverName, "probe-test", mode)
            let open = try await openSessions(server)
            XCTAssertEqual(open, 0, mode)
        }
    }

    func testStatelessServerGetsNoDelete() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["stateless", "{port}"])
        let (run, spans) = await ProbeHarness().run(mcpTarget(server))
        XCTAssertEqual(run.report.outcome.health, .healthy)
        let methods = try await recordedRequests(server).map(\.method)
        XCTAssertEqual(methods, ["POST"])
        XCTAssertEqual(spans.httpClients.map(\.name), ["POST"])
        XCTAssertNil(run.report.attributes["mcp.session.closed"])
    }

    func testClosedPortIsUnreachable() async throws {
        let port = try freeLoopbackPort()
        let target = Target(name: "down", url: "http://127.0.0.1:\(port)/mcp", timeout: .seconds(5))
        let (run, spans) = await ProbeHarness().run(target)
        XCTAssertEqual(run.report.outcome.health, .unreachable)
        XCTAssertEqual(run.report.outcome.errorType, .connectionRefused)
        let root = try XCTUnwrap(spans.first { $0.name == "probe" })
        XCTAssertEqual(root.status.code, .error)
        XCTAssertEqual(root.attributes["error.type"], "connection_refused")
        XCTAssertEqual(root.attributes["health.status"], "unreachable")
        let client = try XCTUnwrap(spans.httpClients.first)
        XCTAssertEqual(client.status.code, .error)
        XCTAssertEqual(client.attributes["error.type"], "connection_refused")
    }
}
