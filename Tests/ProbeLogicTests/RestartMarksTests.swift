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
        report.responseHeaders = HTTPHeaders([HTTPHeader("X-Instance-Id", "i-1")])
        report.responseBody = Array(#"{"started":"t0"}"#.utf8)
        let signals: [RestartSignal] = [
            .headerChanges(name: "x-instance-id"), .headerChanges(name: "X-Absent"),
            .jsonFieldChanges(url: nil, path: "started"),
            .jsonFieldDecreases(url: "https://gw/version", path: "uptime_seconds"),
        ]
        let marks = RestartMarks.extract(signals: signals, report: report,
                                         documents: ["https://gw/version": Array(#"{"uptime_seconds":42}"#.utf8)])
        XCTAssertEqual(marks, [
            "mcp.server.version": RestartMark("1.2.3"),
            "header x-instance-id": RestartMark("i-1"),
            "json started": RestartMark("t0"),
            "json uptime_seconds": RestartMark("42", rule: .decreases),
        ])
        XCTAssertEqual(RestartMarks.documentURLs(signals), ["https://gw/version"])
    }
}
