import Tracing
import XCTest
@testable import ProbeLogic

/// The probe's rule for the failure-biased sampler: every failing probe, state change and
/// restart is kept (the sampler itself, in Tracing, knows no probe vocabulary).
final class ProbeTraceRuleTests: XCTestCase {
    func testKeepTable() {
        let stateChange = SpanEvent(name: "health.state_change", timeUnixNano: 1)
        let restart = SpanEvent(name: "target.restart", timeUnixNano: 1)
        let phase = SpanEvent(name: "dns", timeUnixNano: 1)
        let statuses: [(SpanStatus, Bool)] = [(.unset, false), (.ok, false), (.error("down"), true)]
        let events: [([SpanEvent], Bool)] = [([], false), ([phase], false), ([stateChange], true), ([phase, restart], true)]
        let health: [(AttributeValue?, Bool)] = [(nil, false), ("healthy", false), ("alive", false), ("degraded", true),
                                                 ("unhealthy", true), ("unreachable", true), (.int(1), true)]
        for (status, failing) in statuses {
            for (eventList, changed) in events {
                for (value, unhealthy) in health {
                    let root = SpanData(context: SpanContext(traceID: .random(), spanID: .random()), parentSpanID: nil, name: "probe",
                                        startTimeUnixNano: 1, endTimeUnixNano: 2,
                                        attributes: value.map { [Attribute("health.status", $0)] } ?? [], events: eventList,
                                        status: status, scope: .test)
                    XCTAssertEqual(ProbeTraceRule.keeps(root), failing || changed || unhealthy,
                                   "\(status) \(eventList.map(\.name)) \(String(describing: value))")
                }
            }
        }
    }
}
