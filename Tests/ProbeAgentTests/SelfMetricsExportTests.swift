import Foundation
import HTTPClient
import TestSupport
import XCTest

/// The exporter's own counters (`otlp.exporter.*`) go out over OTLP current, on the reader's
/// schedule, whether or not anything scrapes `/metrics`.
final class SelfMetricsExportTests: XCTestCase {
    func testSelfMetricsAdvanceBetweenExportsWithoutAScrape() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let agent = try RunningAgent(config: """
            admin:
              listen: {admin}
            log_level: info
            defaults: {interval: 1s, timeout: 800ms}
            exporter:
              endpoint: \(receiver.baseURL)
            targets:
              - name: exported
                url: \(mcp.baseURL)/mcp
            """, environment: ["OTEL_METRIC_EXPORT_INTERVAL": "300", "OTEL_BSP_SCHEDULE_DELAY": "100"])

        // No /metrics request in this test: only the OTLP reader collects.
        var exported: [Double] = []
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            exported = try await tracesExported(receiver)
            if Set(exported.filter { $0 > 0 }).count >= 2 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let advancing = exported.filter { $0 > 0 }
        XCTAssertGreaterThanOrEqual(Set(advancing).count, 2,
                                    "otlp.exporter.exported{signal=traces} over successive metric exports: \(exported)")
        XCTAssertEqual(advancing, advancing.sorted(), "a counter only grows")
        withExtendedLifetime(agent) {}  // stopped when released
    }

    /// `otlp.exporter.exported{signal=traces}` in each metric export, in order of arrival.
    func tracesExported(_ receiver: FixtureServer) async throws -> [Double] {
        let records = try await fetchJSON(receiver.baseURL + "/received") as? [[String: Any]] ?? []
        var values: [Double] = []
        for record in records where (record["path"] as? String)?.hasSuffix("/v1/metrics") == true {
            let decoded = record["decoded"] as? [String: Any] ?? [:]
            for rm in decoded["resourceMetrics"] as? [[String: Any]] ?? [] {
                for sm in rm["scopeMetrics"] as? [[String: Any]] ?? [] {
                    for metric in sm["metrics"] as? [[String: Any]] ?? [] where metric["name"] as? String == "otlp.exporter.exported" {
                        let points = (metric["sum"] as? [String: Any])?["dataPoints"] as? [[String: Any]] ?? []
                        for point in points where attributeMap(point["attributes"])["signal"] as? String == "traces" {
                            if let text = point["asInt"] as? String, let value = Double(text) { values.append(value) }
                            else if let value = point["asInt"] as? Int { values.append(Double(value)) }
                            else if let value = point["asDouble"] as? Double { values.append(value) }
                        }
                    }
                }
            }
        }
        return values
    }
}
