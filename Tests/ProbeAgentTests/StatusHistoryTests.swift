import Foundation
import HTTPClient
import ProbeLogic
import Tracing
import XCTest
@testable import ProbeAgent

/// A probe run as `ProbeRunner.run` returns it, for feeding `TargetBook` and the status page.
func probeRun(_ target: String, _ health: HealthStatus, _ errorType: ProbeErrorType? = nil, message: String = "",
              httpStatus: Int? = nil, atSecond second: UInt64, transition: TargetHealth.Transition? = nil,
              restart: String? = nil, traceID: TraceID = .random()) -> ProbeRun {
    var state = TargetHealth()
    state.state = transition?.to ?? (health.isSuccess ? .up : health == .degraded ? .degraded : .down)
    let report = ProbeReport(outcome: Outcome(health, errorType, message), probeType: .anonymous, httpStatus: httpStatus)
    return ProbeRun(target: target, report: report, step: TargetHealth.Step(health: state, transition: transition, restart: restart),
                    traceID: traceID, spanID: .random(), startUnixNano: 1_790_000_000_000_000_000 + second * 1_000_000_000,
                    duration: .milliseconds(12))
}

func targetSpec(_ name: String, url: String = "http://127.0.0.1:1/health", labels: [String: String] = [:]) -> TargetSpec {
    TargetSpec(target: Target(name: name, url: url, kind: .http(HTTPCheck()), labels: labels), interval: .seconds(1))
}

final class StatusHistoryTests: XCTestCase {
    func testRecordStaysSmall() {
        // The figure docs/operations.md gives per kept probe.
        XCTAssertLessThanOrEqual(MemoryLayout<ProbeRecord>.stride, 40)
    }

    func testExactlyHistoryProbesAreKeptOldestDropped() throws {
        let book = TargetBook(historyLimit: 5)
        let spec = targetSpec("a")
        book.replace(with: [spec])
        var ids: [TraceID] = []
        for second in 0..<12 {
            let run = probeRun("a", second % 3 == 0 ? .unreachable : .healthy, atSecond: UInt64(second))
            ids.append(run.traceID)
            XCTAssertNotNil(book.record(run, of: spec))
        }
        let history = try XCTUnwrap(book.entries["a"]).history
        XCTAssertEqual(history.count, 5)
        XCTAssertEqual(history.probes.map(\.traceID), Array(ids.suffix(5)), "the newest five, oldest first")

        let json = try JSONSerialization.jsonObject(with: Data(book.statusJSON(history: 100))) as? [String: Any]
        let target = try XCTUnwrap((json?["targets"] as? [[String: Any]])?.first)
        let kept = try XCTUnwrap(target["history"] as? [[String: Any]])
        XCTAssertEqual(kept.map { $0["trace_id"] as? String }, ids.suffix(5).map(\.hex))
        XCTAssertEqual(kept.last?["health_status"] as? String, "healthy")
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(book.statusJSON(history: 2))) as? [String: Any])
            .flatMap { ($0["targets"] as? [[String: Any]])?.first?["history"] as? [Any] }?.count, 2)
        XCTAssertNil(((try JSONSerialization.jsonObject(with: Data(book.statusJSON())) as? [String: Any])?["targets"] as? [[String: Any]])?
            .first?["history"], "plain /status stays as it was")
    }

    func testEventsAreKeptWhileTheirProbesAreAndEvidenceIsShown() throws {
        let book = TargetBook(historyLimit: 3)
        let spec = targetSpec("a")
        book.replace(with: [spec])
        _ = book.record(probeRun("a", .healthy, atSecond: 0, transition: .init(from: .unknown, to: .up)), of: spec)
        _ = book.record(probeRun("a", .healthy, atSecond: 1, restart: "X-Instance-Id changed: i-1 → i-2"), of: spec)
        var history = try XCTUnwrap(book.entries["a"]).history
        XCTAssertEqual(history.events.count, 2)
        for second in 2..<4 { _ = book.record(probeRun("a", .healthy, atSecond: UInt64(second)), of: spec) }
        history = try XCTUnwrap(book.entries["a"]).history
        XCTAssertEqual(history.events.map(\.kind), [.restart(evidence: "X-Instance-Id changed: i-1 → i-2")],
                       "the state change's probe left the history, the restart's has not")
        let json = try JSONSerialization.jsonObject(with: Data(book.statusJSON(history: 3))) as? [String: Any]
        let events = (json?["targets"] as? [[String: Any]])?.first?["events"] as? [[String: Any]]
        XCTAssertEqual(events?.first?["type"] as? String, "restart")
        XCTAssertEqual(events?.first?["evidence"] as? String, "X-Instance-Id changed: i-1 → i-2")
    }

    func testHistorySurvivesAReloadThatKeepsTheTargetAndShrinksWithTheLimit() throws {
        let book = TargetBook(historyLimit: 10)
        let a = targetSpec("a"), b = targetSpec("b")
        book.replace(with: [a, b])
        for second in 0..<6 {
            _ = book.record(probeRun("a", .healthy, atSecond: UInt64(second)), of: a)
            _ = book.record(probeRun("b", .healthy, atSecond: UInt64(second)), of: b)
        }
        var changedB = b
        changedB.interval = .seconds(5)
        book.replace(with: [a, changedB])
        XCTAssertEqual(book.entries["a"]?.history.count, 6, "unchanged target keeps its history")
        XCTAssertEqual(book.entries["b"]?.history.count, 0, "a changed target starts over")
        book.setHistoryLimit(4)
        XCTAssertEqual(book.entries["a"]?.history.count, 4)
        _ = book.record(probeRun("a", .healthy, atSecond: 9), of: a)
        XCTAssertEqual(book.entries["a"]?.history.count, 4)
        XCTAssertEqual(book.entries["a"]?.history.probes.last?.atUnixNano, 1_790_000_009_000_000_000)
    }

    func testHistoryTimesAreWrittenLikeTheRestOfStatus() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for nanos: UInt64 in [0, 1_790_000_000_007_000_000, 1_790_000_000_070_000_000, 1_799_999_999_123_000_000, 951_782_400_000_000_000] {
            XCTAssertEqual(UTCTime.iso8601(nanos, milliseconds: true), formatter.string(from: Date(timeIntervalSince1970: Double(nanos) / 1e9)))
        }
        XCTAssertEqual(UTCTime.iso8601(951_782_400_000_000_000), "2000-02-29T00:00:00Z")
        XCTAssertEqual(UTCTime.clock(951_782_400_000_000_000 + 3_723_000_000_000), "01:02:03Z")
    }
}
