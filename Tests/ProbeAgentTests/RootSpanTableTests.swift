import Foundation
import TestSupport
import XCTest

/// A failing probe of every kind, era and transport ends with exactly one root span `probe`
/// carrying the documented attributes (docs/design.md, "One probe, as a trace").
final class RootSpanTableTests: XCTestCase {
    struct Row {
        let name: String
        let targetLines: String
        /// `mcp.transport` on the root span; nil for plain HTTP, which has none.
        let transport: String?
        /// The status the peer answered; nil when nothing answered.
        let answered: Int?
        let port: Int
        let health: String
        let errorType: String
    }

    func testFailingProbeOfEveryKindEndsWithOneRootSpanWithTheDocumentedAttributes() async throws {
        let http = try FixtureServer(script: "http_server.py", args: ["{port}"])
        let faults = try FixtureServer(script: "faults_server.py", args: ["{port}"])
        let modern = try FixtureServer(script: "mcp_modern_stub.py", args: ["{port}", "--discover-status", "500"])
        defer { http.stop(); faults.stop(); modern.stop() }
        let closed = try freeLoopbackPort()
        let refused = "http://127.0.0.1:\(closed)"
        let rows = [
            Row(name: "http_refused", targetLines: "kind: http\n    url: \(refused)/healthz",
                transport: nil, answered: nil, port: closed, health: "unreachable", errorType: "connection_refused"),
            Row(name: "http_500", targetLines: "kind: http\n    url: \(http.baseURL)/status/500",
                transport: nil, answered: 500, port: http.port, health: "unhealthy", errorType: "http_5xx"),
            Row(name: "streamable_refused", targetLines: "transport: streamable_http\n    url: \(refused)/mcp",
                transport: "streamable_http", answered: nil, port: closed, health: "unreachable", errorType: "connection_refused"),
            Row(name: "streamable_500", targetLines: "transport: streamable_http\n    url: \(faults.baseURL)/status/500",
                transport: "streamable_http", answered: 500, port: faults.port, health: "unhealthy", errorType: "http_5xx"),
            Row(name: "sse_refused", targetLines: "transport: sse\n    url: \(refused)/sse",
                transport: "sse", answered: nil, port: closed, health: "unreachable", errorType: "connection_refused"),
            Row(name: "sse_500", targetLines: "transport: sse\n    url: \(faults.baseURL)/status/500",
                transport: "sse", answered: 500, port: faults.port, health: "unhealthy", errorType: "http_5xx"),
            // The 2026 era: initialize is refused with -32022, then server/discover answers 500.
            Row(name: "modern_discover_500", targetLines: "transport: streamable_http\n    url: \(modern.baseURL)/mcp",
                transport: "streamable_http", answered: 500, port: modern.port, health: "unhealthy", errorType: "http_5xx"),
        ]
        let spans = ProbeSpanFile()
        let config = """
            admin:
              listen: {admin}
            log_level: info
            defaults:
              interval: 1s
              timeout: 900ms
              failure_threshold: 2
            exporter:
              file: \(spans.path)
            targets:
            \(rows.map { "  - name: \($0.name)\n    \($0.targetLines)" }.joined(separator: "\n"))
            """
        let agent = try RunningAgent(config: config, environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        try await agent.waitFor("3 probes of every target", timeout: 40) {
            rows.allSatisfy { spans.probes(of: $0.name).count >= 3 }
        }
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), "agent did not stop:\n\(agent.log.suffix(3000))")

        let all = spans.spans
        for (traceID, trace) in Dictionary(grouping: all, by: \.traceID) {
            let roots = trace.filter(\.isRoot)
            XCTAssertEqual(roots.map(\.name), ["probe"], "trace \(traceID): exactly one root span, named probe")
        }
        XCTAssertTrue(all.filter { $0.name == "probe" }.allSatisfy(\.isRoot), "a probe span is always a root")

        for row in rows {
            let probes = spans.probes(of: row.name)
            XCTAssertGreaterThanOrEqual(probes.count, 3, row.name)
            for (index, probe) in probes.enumerated() {
                let a = probe.attributes
                let at = "\(row.name) probe \(index)"
                XCTAssertNotNil(a["url.full"] as? String, "\(at): url.full")
                XCTAssertEqual(a["server.address"] as? String, "127.0.0.1", "\(at): server.address")
                XCTAssertEqual(a["server.port"] as? Int, row.port, "\(at): server.port")
                XCTAssertNotNil(a["health.probe_type"] as? String, "\(at): health.probe_type")
                XCTAssertEqual(a["health.status"] as? String, row.health, "\(at): health.status")
                XCTAssertEqual(a["error.type"] as? String, row.errorType, "\(at): error.type")
                // failure_threshold 2: the second failure turns the target down.
                XCTAssertEqual(a["health.state.previous"] as? String, index < 2 ? "unknown" : "down", "\(at): health.state.previous")
                XCTAssertEqual(a["health.consecutive_failures"] as? Int, index + 1, "\(at): health.consecutive_failures")
                XCTAssertEqual(probe.statusCode, 2, "\(at): status ERROR")
                XCTAssertFalse(probe.statusMessage.isEmpty, "\(at): a status message")
                XCTAssertEqual(a["mcp.transport"] as? String, row.transport, "\(at): mcp.transport")
                XCTAssertEqual(a["http.response.status_code"] as? Int, row.answered, "\(at): http.response.status_code")
            }
        }
    }
}
