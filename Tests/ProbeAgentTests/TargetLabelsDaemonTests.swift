import Foundation
import HTTPClient
import TestSupport
import XCTest

/// Metric points the OTLP receiver decoded with the official protos: metric name and attributes.
func receivedMetricPoints(_ receiver: FixtureServer) async throws -> [(metric: String, attributes: [String: Any])] {
    let records = try await fetchJSON(receiver.baseURL + "/received") as? [[String: Any]] ?? []
    var points: [(metric: String, attributes: [String: Any])] = []
    for record in records where (record["path"] as? String)?.hasSuffix("/v1/metrics") == true {
        let decoded = record["decoded"] as? [String: Any] ?? [:]
        for rm in decoded["resourceMetrics"] as? [[String: Any]] ?? [] {
            for sm in rm["scopeMetrics"] as? [[String: Any]] ?? [] {
                for metric in sm["metrics"] as? [[String: Any]] ?? [] {
                    let name = metric["name"] as? String ?? ""
                    for kind in ["gauge", "sum", "histogram"] {
                        let data = metric[kind] as? [String: Any] ?? [:]
                        for point in data["dataPoints"] as? [[String: Any]] ?? [] {
                            points.append((name, attributeMap(point["attributes"])))
                        }
                    }
                }
            }
        }
    }
    return points
}

/// A target's `labels:` on every metric series of the target (`/metrics`, checked by promtool,
/// and OTLP points, decoded by the official protos) and as `probe.label.<name>` on its root span.
final class TargetLabelsDaemonTests: XCTestCase {
    func config(_ mcp: FixtureServer, closedPort: Int, receiver: FixtureServer, paymentsLabels: String) -> String {
        """
        admin:
          listen: {admin}
        log_level: info
        defaults:
          interval: 1s
          timeout: 800ms
          failure_threshold: 1
        exporter:
          endpoint: \(receiver.baseURL)
        targets:
          - name: payments
            url: \(mcp.baseURL)/mcp
            transport: streamable_http
            labels: \(paymentsLabels)
          - name: down
            kind: http
            url: http://127.0.0.1:\(closedPort)/healthz
            labels: {team: search}
          - name: plain
            url: \(mcp.baseURL)/mcp
        """
    }

    func testLabelsAreOnEverySeriesOfTheTargetAndOnItsRootSpan() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let closed = try freeLoopbackPort()
        let agent = try RunningAgent(
            config: config(mcp, closedPort: closed, receiver: receiver, paymentsLabels: "{team: payments, env: prod}"),
            environment: ["OTEL_METRIC_EXPORT_INTERVAL": "300", "OTEL_BSP_SCHEDULE_DELAY": "100"])

        try await agent.waitFor("payments up and down down") {
            let status = (try? await agent.status()) ?? [:]
            return status["payments"]?["state"] as? String == "up" && status["down"]?["state"] as? String == "down"
                && status["plain"]?["state"] as? String == "up"
        }
        let metrics = try await agent.get("/metrics").1
        try assertPromtoolAccepts(metrics)
        let lines = metrics.split(separator: "\n").map(String.init)
        for expected in [
            #"probe_success{env="prod",mcp_transport="streamable_http",probe_type="anonymous",target="payments",team="payments"} 1"#,
            #"probe_http_status_code{env="prod",mcp_transport="streamable_http",probe_type="anonymous",target="payments",team="payments"} 200"#,
            #"probe_health_status{env="prod",mcp_transport="streamable_http",probe_type="anonymous",status="healthy",target="payments",team="payments"} 1"#,
            #"probe_health_status{probe_type="anonymous",status="unreachable",target="down",team="search"} 1"#,
            #"probe_state_transitions_total{from="unknown",probe_type="anonymous",target="down",team="search",to="down"} 1"#,
        ] {
            XCTAssertTrue(lines.contains(expected), "missing \(expected) in:\n\(metrics)")
        }
        let families = ["probe_success", "probe_duration_seconds", "probe_http_status_code", "probe_http_duration_seconds",
                        "probe_consecutive_failures", "probe_health_status", "probe_target_restarts_total"]
        for family in families {
            XCTAssertTrue(lines.contains { $0.hasPrefix(family + "{") && $0.contains(#"target="payments""#) }, family)
        }
        let targetLines = lines.filter { !$0.hasPrefix("#") && $0.contains(#"target=""#) }
        for line in targetLines where line.contains(#"target="payments""#) {
            XCTAssertTrue(line.contains(#"env="prod""#) && line.contains(#"team="payments""#), line)
        }
        for line in targetLines where line.contains(#"target="down""#) { XCTAssertTrue(line.contains(#"team="search""#), line) }
        for line in targetLines where line.contains(#"target="plain""#) { XCTAssertFalse(line.contains("team="), line) }

        // OTLP: every point of the target, histograms (OTLP only) included, carries the labels.
        try await agent.waitFor("OTLP points of payments' histograms") {
            let points = (try? await receivedMetricPoints(receiver)) ?? []
            return points.contains { $0.metric == "probe.http.phase.duration" && $0.attributes["probe.target"] as? String == "payments" }
        }
        let points = try await receivedMetricPoints(receiver).filter { $0.metric.hasPrefix("probe.") }
        let payments = points.filter { $0.attributes["probe.target"] as? String == "payments" }
        XCTAssertTrue(Set(payments.map(\.metric)).isSuperset(of: ["probe.success", "probe.duration", "probe.last_duration",
            "probe.http.status_code", "probe.http.phase.duration", "probe.consecutive_failures", "probe.health.status",
            "probe.target.restarts"]), "\(Set(payments.map(\.metric)))")
        for point in payments {
            XCTAssertEqual(point.attributes["team"] as? String, "payments", point.metric)
            XCTAssertEqual(point.attributes["env"] as? String, "prod", point.metric)
        }
        for point in points where point.attributes["probe.target"] as? String == "down" {
            XCTAssertEqual(point.attributes["team"] as? String, "search", point.metric)
        }
        for point in points where point.attributes["probe.target"] as? String == "plain" {
            XCTAssertNil(point.attributes["team"], point.metric)
        }

        // The root span.
        try await agent.waitFor("root spans of payments and plain") {
            let roots = (try? await receivedSpans(receiver))?.filter { $0.span["name"] as? String == "probe" } ?? []
            let targets = Set(roots.compactMap { attributeMap($0.span["attributes"])["probe.target"] as? String })
            return targets.isSuperset(of: ["payments", "plain"])
        }
        let roots = try await receivedSpans(receiver).filter { $0.span["name"] as? String == "probe" }
            .map { attributeMap($0.span["attributes"]) }
        let paymentsRoot = try XCTUnwrap(roots.first { $0["probe.target"] as? String == "payments" })
        XCTAssertEqual(paymentsRoot["probe.label.team"] as? String, "payments")
        XCTAssertEqual(paymentsRoot["probe.label.env"] as? String, "prod")
        let plainRoot = try XCTUnwrap(roots.first { $0["probe.target"] as? String == "plain" })
        XCTAssertFalse(plainRoot.keys.contains { $0.hasPrefix("probe.label.") }, "\(plainRoot)")

        // A reload that changes the labels replaces the target's series: none keeps the old labels.
        try agent.rewriteConfig(config(mcp, closedPort: closed, receiver: receiver, paymentsLabels: "{team: billing}"))
        agent.signal(SIGHUP)
        let relabelled = #"probe_success{mcp_transport="streamable_http",probe_type="anonymous",target="payments",team="billing"} 1"#
        try await agent.waitFor("payments' series with the new labels") {
            let metrics = (try? await agent.get("/metrics").1) ?? ""
            return metrics.split(separator: "\n").contains { $0 == relabelled }
        }
        let reloaded = try await agent.get("/metrics").1
        XCTAssertFalse(reloaded.contains(#"team="payments""#), reloaded)
        XCTAssertFalse(reloaded.contains(#"env="prod""#), reloaded)
        try assertPromtoolAccepts(reloaded)
    }
}
