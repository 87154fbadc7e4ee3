import Tracing
import XCTest
@testable import ProbeLogic

final class TargetHealthTests: XCTestCase {
    func probe(_ n: UInt64) -> SpanContext { SpanContext(traceID: TraceID(high: 1, low: n), spanID: SpanID(n)) }

    /// Runs a sequence of outcomes and returns the states and transitions after each.
    func replay(_ outcomes: [HealthStatus], policy: HealthPolicy) -> [(TargetHealth.State, TargetHealth.Transition?)] {
        var health = TargetHealth()
        return outcomes.enumerated().map { i, outcome in
            let step = health.next(.init(health: outcome, probe: probe(UInt64(i + 1))), policy: policy)
            health = step.health
            return (health.state, step.transition)
        }
    }

    func testThresholdTable() {
        typealias Row = (outcomes: [HealthStatus], policy: HealthPolicy, states: [TargetHealth.State], line: UInt)
        let p31 = HealthPolicy(failureThreshold: 3, successThreshold: 1)
        let p12 = HealthPolicy(failureThreshold: 1, successThreshold: 2)
        let table: [Row] = [
            ([.healthy], p31, [.up], #line),
            ([.alive], p31, [.up], #line),
            ([.unreachable, .unreachable, .unreachable], p31, [.unknown, .unknown, .down], #line),
            ([.healthy, .unhealthy, .unhealthy, .healthy], p31, [.up, .up, .up, .up], #line),
            ([.healthy, .unhealthy, .unhealthy, .unreachable, .unhealthy], p31, [.up, .up, .up, .down, .down], #line),
            ([.healthy, .degraded, .degraded, .degraded], p31, [.up, .up, .up, .degraded], #line),
            ([.healthy, .degraded, .degraded, .unreachable], p31, [.up, .up, .up, .down], #line),
            ([.unhealthy, .healthy], p12, [.down, .down], #line),
            ([.unhealthy, .healthy, .healthy], p12, [.down, .down, .up], #line),
            ([.unhealthy, .healthy, .unhealthy, .healthy, .healthy], p12, [.down, .down, .down, .down, .up], #line),
            ([.degraded, .unreachable], p12, [.degraded, .down], #line),
        ]
        for row in table {
            XCTAssertEqual(replay(row.outcomes, policy: row.policy).map(\.0), row.states, line: row.line)
        }
    }

    func testTransitionsAreReportedOnce() {
        let steps = replay([.healthy, .unreachable, .unreachable, .unreachable, .unreachable, .healthy], policy: HealthPolicy())
        let transitions = steps.compactMap(\.1)
        XCTAssertEqual(transitions, [.init(from: .unknown, to: .up), .init(from: .up, to: .down), .init(from: .down, to: .up)])
    }

    func testRecoveryLinksToFirstFailureOfTheOutageAndIsNoRestart() {
        var health = TargetHealth()
        let policy = HealthPolicy(failureThreshold: 2, successThreshold: 1)
        var lastStep: TargetHealth.Step!
        for (i, outcome) in [HealthStatus.healthy, .unhealthy, .healthy, .unreachable, .unreachable, .unreachable, .healthy].enumerated() {
            lastStep = health.next(.init(health: outcome, probe: probe(UInt64(i + 1))), policy: policy)
            health = lastStep.health
        }
        XCTAssertEqual(lastStep.recoveryLink, probe(4), "the outage began with the 4th probe, not the isolated 2nd")
        XCTAssertNil(lastStep.restart, "a recovery with no changed mark is not a restart (probe.target.restarts counts restarts only)")
        XCTAssertNil(health.firstFailure)
        XCTAssertEqual(health.consecutiveFailures, 0)
    }

    func testRestartMarks() {
        let policy = HealthPolicy()
        typealias Row = (RestartMark, RestartMark, String?, line: UInt)
        let table: [Row] = [
            (RestartMark("1.0"), RestartMark("1.0"), nil, #line),
            (RestartMark("1.0"), RestartMark("1.1"), "k changed from 1.0 to 1.1", #line),
            (RestartMark("100", rule: .decreases), RestartMark("160", rule: .decreases), nil, #line),
            (RestartMark("100", rule: .decreases), RestartMark("3", rule: .decreases), "k went down from 100 to 3", #line),
            (RestartMark("100", rule: .decreases), RestartMark("n/a", rule: .decreases), nil, #line),
        ]
        for (first, second, expected, line) in table {
            var health = TargetHealth()
            health = health.next(.init(health: .healthy, probe: probe(1), marks: ["k": first]), policy: policy).health
            let step = health.next(.init(health: .healthy, probe: probe(2), marks: ["k": second]), policy: policy)
            XCTAssertEqual(step.restart, expected, line: line)
            XCTAssertEqual(step.health.marks["k"], second, line: line)
        }
        // A mark seen for the first time is no evidence.
        let first = TargetHealth().next(.init(health: .healthy, probe: probe(1), marks: ["k": RestartMark("x")]), policy: policy)
        XCTAssertNil(first.restart)
    }
}
