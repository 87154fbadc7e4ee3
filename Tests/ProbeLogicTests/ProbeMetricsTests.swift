import HTTPClient
import Tracing
import XCTest
@testable import ProbeLogic

/// The series a probe run writes (through per-target bound series), and their removal when a
/// target's attribute set changes or the target goes.
final class ProbeMetricsTests: XCTestCase {
    let registry = MetricsRegistry(scope: .test)
    lazy var metrics = ProbeMetrics(registry: registry)

    func run(_ target: String, _ health: HealthStatus, type: ProbeType = .authenticated, status: Int = 200,
             failures: Int = 0) -> ProbeRun {
        let timings = PhaseTimings(connect: .milliseconds(2), startTransfer: .milliseconds(5), total: .milliseconds(6))
        let report = ProbeReport(outcome: Outcome(health), probeType: type, transport: .streamableHTTP, httpStatus: status,
                                 timings: timings)
        return ProbeRun(target: target, report: report, step: step(failures: failures), traceID: .random(), spanID: .random(), startUnixNano: 1,
                        duration: .milliseconds(6))
    }

    func step(failures: Int = 0) -> TargetHealth.Step {
        var health = TargetHealth()
        health.consecutiveFailures = failures
        return TargetHealth.Step(health: health, transition: nil, restart: nil, recoveryLink: nil)
    }

    func points(_ name: String) -> [(attributes: [Attribute], value: Double)] {
        registry.collect().filter { $0.name == name }.flatMap { metric -> [(attributes: [Attribute], value: Double)] in
            switch metric.points {
            case .gauge(let p), .sum(let p, _, _): return p.map { ($0.attributes, $0.value.asDouble) }
            case .histogram(let p, _): return p.map { ($0.attributes, Double($0.count)) }
            }
        }
    }

    func value(_ name: String, target: String, extra: [Attribute] = []) -> Double? {
        points(name).first { point in
            point.attributes.contains(Attribute("probe.target", .string(target)))
                && extra.allSatisfy { point.attributes.contains($0) }
        }?.value
    }

    func testRunsWriteEverySeriesOfTheirTarget() {
        metrics.record(run("a", .healthy), labels: [:])
        metrics.record(run("a", .unhealthy, status: 503, failures: 1), labels: [:])
        metrics.record(run("b", .healthy), labels: [:])
        XCTAssertEqual(value("probe.success", target: "a"), 0)
        XCTAssertEqual(value("probe.success", target: "b"), 1)
        XCTAssertEqual(value("probe.http.status_code", target: "a"), 503)
        XCTAssertEqual(value("probe.duration", target: "a"), 2, "two runs in a's histogram")
        XCTAssertEqual(value("probe.consecutive_failures", target: "a"), 1)
        XCTAssertEqual(value("probe.http.phase.duration", target: "a", extra: [Attribute("phase", "connect")]), 2)
        XCTAssertEqual(value("probe.http.phase.duration", target: "a", extra: [Attribute("phase", "transfer")]), 2)
        XCTAssertEqual(value("probe.target.restarts", target: "a"), 0)
        XCTAssertEqual(value("probe.last_duration", target: "a"), 0.006, "blackbox's gauge: the last probe")
        XCTAssertEqual(value("probe.http.phase.last_duration", target: "a", extra: [Attribute("phase", "connect")]), 0.002)
        XCTAssertNil(value("probe.http.phase.duration", target: "a", extra: [Attribute("phase", "tls")]),
                     "no TLS handshake, no tls series")
    }

    func testChangedProbeTypeReplacesTheOldSeries() {
        metrics.record(run("a", .healthy), labels: [:])
        metrics.record(run("a", .alive, type: .unauthenticatedLiveness, status: 401), labels: [:])
        let success = points("probe.success").filter { $0.attributes.contains(Attribute("probe.target", "a")) }
        XCTAssertEqual(success.count, 1)
        XCTAssertTrue(success[0].attributes.contains(Attribute("health.probe_type", "unauthenticated_liveness")))
        XCTAssertEqual(value("probe.duration", target: "a"), 1, "the old type's histogram is gone, the new one has one run")
    }

    func testRemovedTargetLeavesNoSeries() {
        metrics.record(run("a", .healthy), labels: [:])
        metrics.record(run("b", .healthy), labels: [:])
        metrics.remove(target: "a")
        XCTAssertTrue(points("probe.success").allSatisfy { !$0.attributes.contains(Attribute("probe.target", "a")) })
        for name in ["probe.http.phase.duration", "probe.http.phase.last_duration", "probe.last_duration"] {
            XCTAssertTrue(points(name).allSatisfy { !$0.attributes.contains(Attribute("probe.target", "a")) }, name)
        }
        XCTAssertEqual(value("probe.success", target: "b"), 1)
        metrics.record(run("a", .healthy), labels: [:])  // back again: recorded afresh
        XCTAssertEqual(value("probe.duration", target: "a"), 1)
    }

    /// A run that writes every series: TLS expiry, OAuth token state, a transition and a restart.
    func fullRun(_ target: String) -> ProbeRun {
        var report = run(target, .healthy).report
        report.answer = ProbeAnswer(url: "https://a/", status: 200, headers: HTTPHeaders(),
                                    certificate: PeerCertificate(notAfter: Date(timeIntervalSince1970: 1_900_000_000)))
        report.token = .obtained
        let step = TargetHealth.Step(health: TargetHealth(), transition: TargetHealth.Transition(from: .unknown, to: .up),
                                     restart: "server version changed", recoveryLink: nil)
        let run = ProbeRun(target: target, report: report, step: step, traceID: .random(), spanID: .random(), startUnixNano: 1,
                           duration: .milliseconds(6))
        return run
    }

    static let every = ["probe.success", "probe.duration", "probe.last_duration", "probe.http.status_code",
                        "probe.http.phase.duration", "probe.http.phase.last_duration", "probe.tls.cert.not_after",
                        "probe.consecutive_failures", "probe.health.status", "probe.auth.token_unavailable",
                        "probe.state.transitions", "probe.target.restarts"]

    func pointsOf(_ target: String) -> [(metric: String, attributes: [Attribute])] {
        Self.every.flatMap { name in
            points(name).filter { $0.attributes.contains(Attribute("probe.target", .string(target))) }.map { (name, $0.attributes) }
        }
    }

    func testLabelsAreOnEverySeriesOfTheTarget() {
        let run = fullRun("a")
        metrics.record(run, labels: ["team": "payments", "env": "prod"])
        metrics.record(self.run("b", .healthy), labels: [:])
        let points = pointsOf("a")
        XCTAssertEqual(Set(points.map(\.metric)), Set(Self.every))
        for point in points {
            XCTAssertTrue(point.attributes.contains(Attribute("team", "payments")), point.metric)
            XCTAssertTrue(point.attributes.contains(Attribute("env", "prod")), point.metric)
        }
        XCTAssertTrue(pointsOf("b").allSatisfy { !$0.attributes.contains { $0.key == "team" } })
    }

    func testChangedLabelsReplaceTheOldSeries() {
        let run = fullRun("a")
        metrics.record(run, labels: ["team": "payments"])
        metrics.record(run, labels: ["team": "billing"])
        let points = pointsOf("a")
        XCTAssertEqual(Set(points.map(\.metric)), Set(Self.every))
        for point in points {
            XCTAssertTrue(point.attributes.contains(Attribute("team", "billing")), "\(point.metric) \(point.attributes)")
        }
        XCTAssertEqual(value("probe.duration", target: "a"), 1, "the old labels' histogram is gone")
    }

    func testRemovedTargetWithLabelsLeavesNoSeries() {
        let run = fullRun("a")
        metrics.record(run, labels: ["team": "payments"])
        metrics.remove(target: "a")
        XCTAssertEqual(pointsOf("a").map(\.metric), [])
    }
}

private extension NumberValue {
    var asDouble: Double {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        }
    }
}
