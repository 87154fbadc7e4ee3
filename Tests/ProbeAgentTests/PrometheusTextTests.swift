import Foundation
import HTTPClient
import Tracing
import XCTest
@testable import ProbeAgent
@testable import ProbeLogic

final class PrometheusTextTests: XCTestCase {
    func testMetricNames() {
        let table: [(name: String, unit: String, counter: Bool, expected: String)] = [
            ("probe.success", "1", false, "probe_success"),
            ("probe.last_duration", "s", false, "probe_duration_seconds"),
            ("probe.http.status_code", "1", false, "probe_http_status_code"),
            ("probe.http.phase.last_duration", "s", false, "probe_http_duration_seconds"),
            ("probe.tls.cert.not_after", "s", false, "probe_ssl_earliest_cert_expiry"),
            ("probe.consecutive_failures", "1", false, "probe_consecutive_failures"),
            ("probe.state.transitions", "1", true, "probe_state_transitions_total"),
            ("probe.target.restarts", "1", true, "probe_target_restarts_total"),
            ("probe.health.status", "1", false, "probe_health_status"),
            ("probe_agent.config.reload.success", "1", false, "probe_agent_config_reload_success"),
            ("otlp.exporter.exported", "1", true, "otlp_exporter_exported_total"),
            ("otlp.exporter.dropped", "1", true, "otlp_exporter_dropped_total"),
            ("otlp.exporter.failed", "1", true, "otlp_exporter_failed_total"),
            ("otlp.exporter.retries", "1", true, "otlp_exporter_retries_total"),
            ("otlp.exporter.queue_size", "1", false, "otlp_exporter_queue_size"),
            ("probe_agent.spans.dropped", "1", true, "probe_agent_spans_dropped_total"),
            // The generic rules.
            ("http.server.request.duration", "s", false, "http_server_request_duration_seconds"),
            ("queue.wait_seconds", "s", false, "queue_wait_seconds"),
            ("jobs.done", "1", true, "jobs_done_total"),
            ("jobs.done_total", "", true, "jobs_done_total"),
            ("cache.hit-ratio", "1", false, "cache_hit_ratio"),
            ("a:b/c é", "", false, "a_b_c__"),
            ("9lives", "", false, "_9lives"),
            ("wait.time", "ms", false, "wait_time"),
        ]
        for row in table {
            XCTAssertEqual(PrometheusNames.metricName(row.name, unit: row.unit, isCounter: row.counter), row.expected, row.name)
        }
    }

    func testLabelNames() {
        let table: [(String, String)] = [
            ("probe.target", "target"), ("mcp.transport", "mcp_transport"), ("health.probe_type", "probe_type"),
            ("phase", "phase"), ("status", "status"), ("from", "from"), ("http.response.status_code", "http_response_status_code"),
            ("otel.metric.overflow", "otel_metric_overflow"), ("gateway-id", "gateway_id"), ("2fa", "key_2fa"),
            ("__name__", "key___name__"), ("", "key_"), ("ü", "_"),
        ]
        for (key, expected) in table {
            XCTAssertEqual(PrometheusNames.labelName(key), expected, key)
        }
    }

    func testGaugeAndCounterExposition() {
        let metrics = [
            MetricData(name: "probe.state.transitions", description: "Changes of the target's state", unit: "1",
                       scope: .test, points: .sum([point(["probe.target": "b", "from": "up", "to": "down"], .int(2)),
                                     point(["probe.target": "a", "from": "up", "to": "down"], .int(1))],
                                    temporality: .cumulative, isMonotonic: true)),
            MetricData(name: "probe.success", description: "1 when the probe ended healthy or alive", unit: "1",
                       scope: .test, points: .gauge([point(["probe.target": "b", "mcp.transport": "sse", "health.probe_type": "anonymous"], .int(0)),
                                       point(["probe.target": "a", "mcp.transport": "streamable_http", "health.probe_type": "authenticated"], .int(1))])),
            MetricData(name: "otlp.exporter.queue_size", unit: "1", scope: .test, points: .sum([point([:], .int(7))], temporality: .cumulative, isMonotonic: false)),
        ]
        XCTAssertEqual(PrometheusText.render(metrics), """
            # HELP otlp_exporter_queue_size otlp.exporter.queue_size
            # TYPE otlp_exporter_queue_size gauge
            otlp_exporter_queue_size 7
            # HELP probe_state_transitions_total Changes of the target's state
            # TYPE probe_state_transitions_total counter
            probe_state_transitions_total{from="up",target="a",to="down"} 1
            probe_state_transitions_total{from="up",target="b",to="down"} 2
            # HELP probe_success 1 when the probe ended healthy or alive
            # TYPE probe_success gauge
            probe_success{mcp_transport="sse",probe_type="anonymous",target="b"} 0
            probe_success{mcp_transport="streamable_http",probe_type="authenticated",target="a"} 1

            """)
    }

    func testHistogramIsCumulativeWithInfSumAndCount() {
        let histogram = HistogramDataPoint(
            attributes: [Attribute("probe.target", "a"), Attribute("phase", "connect")], startTimeUnixNano: 1, timeUnixNano: 2,
            count: 6, sum: 3.25, min: 0.001, max: 2, bucketCounts: [1, 0, 3, 2], explicitBounds: [0.005, 0.5, 1])
        let metrics = [MetricData(name: "queue.wait", description: "Connection phases", unit: "s",
                                  scope: .test, points: .histogram([histogram], temporality: .cumulative))]
        XCTAssertEqual(PrometheusText.render(metrics), """
            # HELP queue_wait_seconds Connection phases
            # TYPE queue_wait_seconds histogram
            queue_wait_seconds_bucket{phase="connect",target="a",le="0.005"} 1
            queue_wait_seconds_bucket{phase="connect",target="a",le="0.5"} 1
            queue_wait_seconds_bucket{phase="connect",target="a",le="1"} 4
            queue_wait_seconds_bucket{phase="connect",target="a",le="+Inf"} 6
            queue_wait_seconds_sum{phase="connect",target="a"} 3.25
            queue_wait_seconds_count{phase="connect",target="a"} 6

            """)
    }

    /// blackbox_exporter's duration names are gauges of the last probe on /metrics; the histograms
    /// of the same measurements are left to OTLP, so a dashboard's `probe_duration_seconds` query
    /// finds a plain sample.
    func testDurationsAreBlackboxGaugesAndTheHistogramsStayOTLPOnly() {
        let attributes = [Attribute("probe.target", "a")]
        let histogram = HistogramDataPoint(attributes: attributes, startTimeUnixNano: 1, timeUnixNano: 2, count: 1, sum: 0.25,
                                           min: 0.25, max: 0.25, bucketCounts: [0, 1], explicitBounds: [0.1])
        let metrics = [
            MetricData(name: "probe.duration", unit: "s", scope: .test, points: .histogram([histogram], temporality: .cumulative)),
            MetricData(name: "probe.http.phase.duration", unit: "s", scope: .test, points: .histogram([histogram], temporality: .cumulative)),
            MetricData(name: "probe.last_duration", description: "Duration of the last probe", unit: "s",
                       scope: .test, points: .gauge([point(["probe.target": "a"], .double(0.25))])),
            MetricData(name: "probe.http.phase.last_duration", description: "Phases", unit: "s",
                       scope: .test, points: .gauge([point(["probe.target": "a", "phase": "connect"], .double(0.001))])),
        ]
        XCTAssertEqual(PrometheusText.render(metrics), """
            # HELP probe_duration_seconds Duration of the last probe
            # TYPE probe_duration_seconds gauge
            probe_duration_seconds{target="a"} 0.25
            # HELP probe_http_duration_seconds Phases
            # TYPE probe_http_duration_seconds gauge
            probe_http_duration_seconds{phase="connect",target="a"} 0.001

            """)
    }

    func testEscapingAndValueForms() {
        let metrics = [MetricData(name: "odd", description: "back\\slash\nnew line", unit: "",
                                  scope: .test, points: .gauge([point(["v": "a\"b\\c\nd"], .double(0.25)),
                                                  point(["v": "big"], .double(1e21)), point(["v": "inf"], .double(.infinity)),
                                                  point(["v": "nan"], .double(.nan)), point(["v": "whole"], .double(3)),
                                                  point(["v": "tiny"], .double(1e-7))]))]
        XCTAssertEqual(PrometheusText.render(metrics), """
            # HELP odd back\\\\slash\\nnew line
            # TYPE odd gauge
            odd{v="a\\"b\\\\c\\nd"} 0.25
            odd{v="big"} 1e+21
            odd{v="inf"} +Inf
            odd{v="nan"} NaN
            odd{v="tiny"} 1e-07
            odd{v="whole"} 3

            """)
    }

    /// Found by Tests/Fuzz (prometheus): an empty metric name rendered `# HELP  `, which no scraper parses.
    func testAMetricWithoutANameIsLeftOut() {
        let metrics = [MetricData(name: "", scope: .test, points: .gauge([point([:], .int(1))])),
                       MetricData(name: "up", scope: .test, points: .gauge([point([:], .int(1))]))]
        XCTAssertEqual(PrometheusText.render(metrics), "# HELP up up\n# TYPE up gauge\nup 1\n")
    }

    /// Found by Tests/Fuzz (prometheus): a bound of +Inf wrote le="+Inf" twice and a repeated bound
    /// repeated its series (scrapes fail on both); bucket counts whose sum passes UInt64.max trapped.
    func testHistogramBoundsThatAreNotIncreasingAndHugeCounts() {
        let odd = HistogramDataPoint(attributes: [], startTimeUnixNano: 1, timeUnixNano: 2, count: 15, sum: nil, min: nil, max: nil,
                                     bucketCounts: [1, 2, 3, 4, 5], explicitBounds: [1, 1, .infinity, .nan])
        let huge = HistogramDataPoint(attributes: [], startTimeUnixNano: 1, timeUnixNano: 2, count: .max, sum: nil, min: nil, max: nil,
                                      bucketCounts: [.max, 1, 0], explicitBounds: [1, 2])
        let metrics = [MetricData(name: "odd", scope: .test, points: .histogram([odd], temporality: .cumulative)),
                       MetricData(name: "huge", scope: .test, points: .histogram([huge], temporality: .cumulative))]
        XCTAssertEqual(PrometheusText.render(metrics), """
            # HELP huge huge
            # TYPE huge histogram
            huge_bucket{le="1"} 18446744073709551615
            huge_bucket{le="2"} 18446744073709551615
            huge_bucket{le="+Inf"} 18446744073709551615
            huge_count 18446744073709551615
            # HELP odd odd
            # TYPE odd histogram
            odd_bucket{le="1"} 1
            odd_bucket{le="+Inf"} 15
            odd_count 15

            """)
    }

    /// A CR LF is one Character in Swift, so a Character-wise escape missed its LF and the line broke.
    func testCRLFInHelpAndLabelValuesIsEscaped() {
        let metrics = [MetricData(name: "m", description: "a\r\nb", scope: .test, points: .gauge([point(["v": "c\r\nd"], .int(1))]))]
        XCTAssertEqual(PrometheusText.render(metrics), "# HELP m a\r\\nb\n# TYPE m gauge\nm{v=\"c\r\\nd\"} 1\n")
    }

    func testAttributeValueTextAndCollidingLabels() {
        let attributes = [Attribute("a.b", "x"), Attribute("a_b", "y"), Attribute("flag", .bool(true)), Attribute("n", .int(-3)),
                          Attribute("list", .array(["p", .int(1)]))]
        XCTAssertEqual(PrometheusText.Labels.render(attributes), #"a_b="x;y",flag="true",list="[\"p\",1]",n="-3""#)
    }

    func testDeltasAreSkippedAndKindClashesKeepTheFirst() {
        let metrics = [
            MetricData(name: "jobs", unit: "1", scope: .test, points: .sum([point([:], .int(5))], temporality: .delta, isMonotonic: true)),
            MetricData(name: "jobs_total", unit: "1", scope: .test, points: .gauge([point([:], .int(1))])),
            MetricData(name: "jobs", unit: "1", scope: .test, points: .sum([point([:], .int(9))], temporality: .cumulative, isMonotonic: true)),
        ]
        XCTAssertEqual(PrometheusText.render(metrics), """
            # HELP jobs_total jobs_total
            # TYPE jobs_total gauge
            jobs_total 1

            """)
        XCTAssertEqual(PrometheusText.render([]), "")
    }

    func testOutputIsStableAcrossInputOrder() {
        let registry = Self.populatedRegistry()
        let metrics = registry.collect(temporality: .cumulative)
        XCTAssertEqual(PrometheusText.render(metrics), PrometheusText.render(metrics.reversed()))
    }

    /// The full metric set through the real parser and linter.
    func testPromtoolAcceptsTheFullMetricSet() throws {
        let text = PrometheusText.render(Self.populatedRegistry().collect(temporality: .cumulative))
        for family in ["probe_success", "probe_duration_seconds", "probe_http_duration_seconds", "probe_ssl_earliest_cert_expiry",
                       "probe_state_transitions_total", "probe_target_restarts_total", "probe_health_status",
                       "otlp_exporter_dropped_total", "probe_agent_spans_dropped_total"] {
            XCTAssertTrue(text.contains("# TYPE \(family) "), family)
        }
        try assertPromtoolAccepts(text)
    }

    /// `labels:` refuses `PrometheusNames.reservedTargetLabels`; that list must hold every label a
    /// probe series carries besides the target's own labels, or a target label could collide.
    func testReservedLabelNamesCoverEveryLabelOfTheProbeSeries() {
        let registry = MetricsRegistry(scope: .test)
        var report = ProbeReport(outcome: Outcome(.healthy), probeType: .authenticated, transport: .streamableHTTP, httpStatus: 200,
                                 timings: PhaseTimings(connect: .milliseconds(2), startTransfer: .milliseconds(5), total: .milliseconds(6)))
        report.answer = ProbeAnswer(url: "https://a/", status: 200, headers: HTTPHeaders(),
                                    certificate: PeerCertificate(notAfter: Date(timeIntervalSince1970: 1_900_000_000)))
        report.token = TokenState.obtained
        let step = TargetHealth.Step(health: TargetHealth(), transition: TargetHealth.Transition(from: .unknown, to: .up),
                                     restart: "server version changed", recoveryLink: nil)
        let run = ProbeRun(target: "a", report: report, step: step, traceID: .random(), spanID: .random(), startUnixNano: 1,
                           duration: .milliseconds(6))
        ProbeMetrics(registry: registry).record(run, labels: [:])
        var names = Set<String>()
        for metric in registry.collect() {
            switch metric.points {
            case .gauge(let points), .sum(let points, _, _): for p in points { names.formUnion(p.attributes.map(\.key)) }
            case .histogram(let points, _): for p in points { names.formUnion(p.attributes.map(\.key)) }
            }
        }
        XCTAssertEqual(Set(names.map(PrometheusNames.labelName)).subtracting(PrometheusNames.reservedTargetLabels), [])
        XCTAssertTrue(names.count >= 7, "\(names)")
    }

    // MARK: -

    private func point(_ attributes: KeyValuePairs<String, String>, _ value: NumberValue) -> NumberDataPoint {
        NumberDataPoint(attributes: attributes.map { Attribute($0.key, .string($0.value)) }, startTimeUnixNano: 1,
                        timeUnixNano: 2, value: value)
    }

    /// Every metric the agent exposes, as ProbeMetrics and the exporter register them.
    static func populatedRegistry() -> MetricsRegistry {
        let registry = MetricsRegistry(scope: .test)
        let targets: [[Attribute]] = [
            [Attribute("probe.target", "payments-mcp"), Attribute("mcp.transport", "streamable_http"),
             Attribute("health.probe_type", "authenticated")],
            [Attribute("probe.target", "status-page"), Attribute("health.probe_type", "anonymous")],
        ]
        let success = registry.gauge("probe.success", unit: "1", description: "1 when the probe ended healthy or alive")
        let duration = registry.histogram("probe.duration", unit: "s", description: "Duration of the whole probe")
        let status = registry.gauge("probe.http.status_code", unit: "1", description: "HTTP status of the probe's main exchange")
        let phases = registry.histogram("probe.http.phase.duration", unit: "s", description: "Connection phases of the main exchange")
        let lastDuration = registry.gauge("probe.last_duration", unit: "s", description: "Duration of the last probe")
        let lastPhases = registry.gauge("probe.http.phase.last_duration", unit: "s", description: "Connection phases of the last probe")
        let expiry = registry.gauge("probe.tls.cert.not_after", unit: "s", description: "Expiry of the peer certificate, unix seconds")
        let failures = registry.gauge("probe.consecutive_failures", unit: "1", description: "Failed probes in a row")
        let health = registry.gauge("probe.health.status", unit: "1", description: "1 for the health status of the last probe")
        let transitions = registry.counter("probe.state.transitions", unit: "1", description: "Changes of the target's state")
        let restarts = registry.counter("probe.target.restarts", unit: "1", description: "Restarts detected")
        for (i, attributes) in targets.enumerated() {
            success.set(i, attributes: attributes)
            duration.record(0.042 * Double(i + 1), attributes: attributes)
            lastDuration.set(0.042 * Double(i + 1), attributes: attributes)
            status.set(i == 0 ? 200 : 503, attributes: attributes)
            for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
                phases.record(0.003, attributes: attributes + [Attribute("phase", .string(phase))])
                lastPhases.set(0.003, attributes: attributes + [Attribute("phase", .string(phase))])
            }
            expiry.set(1_893_456_000.0, attributes: attributes)
            failures.set(i * 3, attributes: attributes)
            health.set(1, attributes: attributes + [Attribute("status", "healthy")])
            health.set(0, attributes: attributes + [Attribute("status", "unreachable")])
            transitions.add(1, attributes: attributes + [Attribute("from", "unknown"), Attribute("to", "healthy")])
            restarts.add(i, attributes: attributes)
        }
        registry.gauge("probe_agent.config.reload.success", unit: "1", description: "1 when the last config reload succeeded").set(1, attributes: [])
        registry.counter("probe_agent.spans.dropped", unit: "1", description: "Spans dropped before export").add(0, attributes: [])
        for signal in ["traces", "metrics"] {
            let attributes = [Attribute("signal", .string(signal))]
            registry.counter("otlp.exporter.exported", unit: "1", description: "Items exported").add(10, attributes: attributes)
            registry.counter("otlp.exporter.failed", unit: "1", description: "Export calls that failed").add(1, attributes: attributes)
            registry.counter("otlp.exporter.retries", unit: "1", description: "Export requests retried").add(2, attributes: attributes)
            registry.counter("otlp.exporter.dropped", unit: "1", description: "Items dropped")
                .add(3, attributes: attributes + [Attribute("reason", "retry_exhausted")])
            registry.gauge("otlp.exporter.queue_size", unit: "1", description: "Items waiting for export").set(4, attributes: attributes)
        }
        return registry
    }
}

/// `promtool check metrics` (the real parser and linter) accepts `text`. CI installs prometheus
/// (scripts/test-deploy), so a missing promtool is a failure, not a skip.
func assertPromtoolAccepts(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let promtool = "/usr/bin/promtool"
    guard FileManager.default.isExecutableFile(atPath: promtool) else {
        return XCTFail("\(promtool) not found: install it (apt-get install -y prometheus) to validate /metrics", file: file, line: line)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: promtool)
    process.arguments = ["check", "metrics"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "promtool check metrics:\n\(report)\n--- input ---\n\(text)", file: file, line: line)
}
