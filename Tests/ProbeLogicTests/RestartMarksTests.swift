import HTTPClient
import XCTest
@testable import ProbeLogic

final class RestartMarksTests: XCTestCase {
    func testJSONPathTable() {
        let doc = Array(#"{"status":"ok","uptime_seconds":12.5,"n":3,"up":true,"mcp_runtime":{"pod_id":"abc"},"checks":[{"state":"pass"}],"nil":null}"#.utf8)
        let table: [(String, String?)] = [
            ("status", "ok"), ("uptime_seconds", "12.5"), ("n", "3"), ("up", "true"),
            ("mcp_runtime.pod_id", "abc"), ("checks.0.state", "pass"), ("checks.1.state", nil),
            ("checks", nil), ("mcp_runtime", nil), ("nil", nil), ("missing", nil), ("status.x", nil),
        ]
        for (path, expected) in table { XCTAssertEqual(JSONPath.text(at: path, in: doc), expected, path) }
        XCTAssertNil(JSONPath.text(at: "a", in: Array("not json".utf8)))
    }

    func testMarksFromVersionHeaderAndJSONFields() {
        var report = ProbeReport(outcome: Outcome(.healthy), probeType: .anonymous)
        report.server = MCPServerFacts(protocolVersion: "2025-11-25", serverName: "s", serverVersion: "1.2.3", capabilities: [])
        report.answer = ProbeAnswer(url: "https://mcp/mcp", status: 200, headers: HTTPHeaders([HTTPHeader("X-Instance-Id", "i-1")]),
                                    body: Array(#"{"started":"t0"}"#.utf8))
        let signals: [RestartSignal] = [
            .headerChanges(name: "x-instance-id"), .headerChanges(name: "X-Absent"),
            .jsonFieldChanges(url: nil, path: "started"),
            .jsonFieldDecreases(url: "https://gw/version", path: "uptime_seconds"),
            .jsonFieldChanges(url: "https://gw/private", path: "pod"),
            .jsonFieldChanges(url: nil, path: "missing"),
        ]
        let reading = RestartMarks.read(signals: signals, report: report, documents: [
            "https://gw/version": .body(Array(#"{"uptime_seconds":42}"#.utf8)),
            "https://gw/private": .unreadable("document https://gw/private answered HTTP 401"),
        ])
        XCTAssertEqual(reading.marks, [
            "mcp.server.version": RestartMark("1.2.3"),
            "header x-instance-id": RestartMark("i-1"),
            "json started": RestartMark("t0"),
            "json uptime_seconds": RestartMark("42", rule: .decreases),
        ])
        XCTAssertEqual(reading.problems, [
            "header X-Absent: not in the answer",
            "json pod: document https://gw/private answered HTTP 401",
            "json missing: the answer is not JSON or has no value at missing",
        ])
        XCTAssertEqual(RestartMarks.documentSources(signals + signals).map(\.url), ["https://gw/version", "https://gw/private"])
    }

    /// A document with credentials of its own is fetched with those, once per URL.
    func testDocumentSourcesCarryTheirOwnAuth() {
        let admin = AuthConfig.bearer(token: Secret("admin-jwt"))
        let signals: [RestartSignal] = [
            .jsonFieldDecreases(url: "https://gw/version", path: "uptime_seconds", auth: admin),
            .jsonFieldChanges(url: "https://gw/version", path: "host", auth: admin),
            .jsonFieldChanges(url: "https://gw/health", path: "status"),
            .jsonFieldChanges(url: nil, path: "started"),
        ]
        XCTAssertEqual(RestartMarks.documentSources(signals), [
            RestartDocumentSource(url: "https://gw/version", auth: admin),
            RestartDocumentSource(url: "https://gw/health"),
        ])
    }

    func testNoAnswerNoMarksAndNoProblems() {
        let report = ProbeReport(outcome: Outcome(.unreachable, .connectionRefused), probeType: .anonymous)
        XCTAssertEqual(RestartMarks.read(signals: [.headerChanges(name: "X-Instance-Id")], report: report), RestartReading())
    }
}
