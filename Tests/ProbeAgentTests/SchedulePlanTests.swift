import Foundation
import ProbeLogic
import XCTest
@testable import ProbeAgent

/// The scheduler's pure decisions: where a target sits in its interval, its first and next due
/// instants, and the due-order queue.
final class SchedulePlanTests: XCTestCase {
    let epoch = ContinuousClock.now
    func at(_ ms: Double) -> ContinuousClock.Instant { epoch + .microseconds(Int64((ms * 1000).rounded())) }

    func testOffsetsSitOnTheSlotGridWithinTheInterval() {
        for interval: Duration in [.milliseconds(5), .milliseconds(20), .milliseconds(30), .seconds(1), .milliseconds(1500), .seconds(60)] {
            for i in 0..<300 {
                let offset = SchedulePlan.offset(name: "target-\(i)", interval: interval)
                XCTAssertGreaterThanOrEqual(offset, .zero)
                XCTAssertTrue(offset < interval || (interval < SchedulePlan.slot && offset == .zero), "\(offset) for \(interval)")
                let slots = offset / SchedulePlan.slot
                XCTAssertEqual(slots, slots.rounded(), accuracy: 1e-9, "\(offset) is not on the \(SchedulePlan.slot) grid")
                XCTAssertEqual(offset, SchedulePlan.offset(name: "target-\(i)", interval: interval), "stable")
            }
        }
    }

    /// 1,000 targets at 1 s over 50 slots of 20 ms: every slot used, none with more than twice its share.
    func testFleetIsSpreadOverTheInterval() {
        var perSlot = [Int: Int]()
        for i in 0..<1000 {
            let slot = Int((SchedulePlan.offset(name: "t\(i)", interval: .seconds(1)) / SchedulePlan.slot).rounded())
            perSlot[slot, default: 0] += 1
        }
        XCTAssertEqual(perSlot.count, 50, "\(perSlot.keys.sorted())")
        XCTAssertLessThanOrEqual(perSlot.values.max() ?? 0, 40, "\(perSlot)")
    }

    func testFirstDueIsTheNextInstantOnTheTargetsGrid() {
        // (offset ms, interval ms, now ms after the epoch) -> due ms after the epoch
        let table: [(Double, Double, Double, Double)] = [
            (300, 1000, 0, 300),  // the agent just started: first slot of the interval
            (300, 1000, 100, 300),
            (300, 1000, 300, 300),  // due right now
            (300, 1000, 300.001, 1300),
            (300, 1000, 5300, 5300),
            (300, 1000, 5300.5, 6300),
            (300, 1000, 5999, 6300),
            (0, 1000, 0, 0),
            (0, 1000, 999, 1000),
            (20, 1500, 10_000, 10_520),  // a reload 10 s in lines up with targets running since the start
            (0, 20, 7, 20),
        ]
        for (offset, interval, now, expected) in table {
            let due = SchedulePlan.firstDue(epoch: epoch, offset: .microseconds(Int64(offset * 1000)),
                                            interval: .microseconds(Int64(interval * 1000)), now: at(now))
            XCTAssertEqual(due, at(expected), "offset \(offset), interval \(interval), now \(now)")
        }
    }

    func testNextDueKeepsAFixedRateAndSkipsMissedRuns() {
        // (previous due, interval, now) in ms -> next due
        let table: [(Double, Double, Double, Double)] = [
            (0, 1000, 1, 1000),  // on time
            (0, 1000, 999, 1000),
            (0, 1000, 1000, 1000),  // the next run is due right now
            (0, 1000, 1000.5, 2000),  // behind: the missed run is skipped, not fired late
            (0, 1000, 2500, 3000),  // two runs missed
            (0, 250, 10_000.1, 10_250),
        ]
        for (due, interval, now, expected) in table {
            let next = SchedulePlan.nextDue(after: at(due), interval: .microseconds(Int64(interval * 1000)), now: at(now))
            XCTAssertEqual(next, at(expected), "due \(due), interval \(interval), now \(now)")
        }
    }

    func testQueuePopsInDueOrderOnlyWhatIsDue() {
        var queue = ScheduleQueue<Int>()
        var generator = SystemRandomNumberGenerator()
        let dues = (0..<200).map { _ in Int.random(in: 0..<1000, using: &generator) }
        for (i, due) in dues.enumerated() { queue.insert("t\(i)", due: due) }
        XCTAssertEqual(queue.count, 200)
        XCTAssertEqual(queue.next?.due, dues.min())
        var popped: [Int] = []
        while let item = queue.popDue(at: 499) { popped.append(item.due) }
        XCTAssertEqual(popped, dues.filter { $0 <= 499 }.sorted())
        XCTAssertEqual(queue.count, dues.filter { $0 > 499 }.count)

        queue.removeAll { $0.due % 2 == 0 }
        XCTAssertEqual(queue.names.count, dues.filter { $0 > 499 && $0 % 2 == 1 }.count)
        popped = []
        while let item = queue.popDue(at: .max) { popped.append(item.due) }
        XCTAssertEqual(popped, dues.filter { $0 > 499 && $0 % 2 == 1 }.sorted())
        XCTAssertNil(queue.popDue(at: .max))
    }
}

/// The scheduler itself, with probes that take longer than their interval: never two probes of
/// one target at once, never more than the global limit in flight, and still every target runs.
final class SchedulerTests: XCTestCase {
    final class Probes: @unchecked Sendable {
        private let lock = NSLock()
        private var running: [String: Int] = [:]
        private(set) var maxPerTarget = 0
        private(set) var maxInFlight = 0
        private(set) var runs: [String: Int] = [:]

        func started(_ name: String) {
            lock.withLock {
                running[name, default: 0] += 1
                runs[name, default: 0] += 1
                maxPerTarget = max(maxPerTarget, running[name]!)
                maxInFlight = max(maxInFlight, running.values.reduce(0, +))
            }
        }

        func ended(_ name: String) { lock.withLock { running[name, default: 0] -= 1 } }
    }

    func spec(_ name: String, every interval: Duration) -> TargetSpec {
        TargetSpec(target: Target(name: name, url: "http://127.0.0.1:9/"), interval: interval, failingInterval: nil)
    }

    /// Runs `specs` for `seconds` with probes of `probeTime`; returns what the probes saw.
    func run(_ specs: [TargetSpec], limit: Int, probeTime: Duration, for time: Duration) async throws -> Probes {
        let probes = Probes()
        let scheduler = Scheduler(maxConcurrency: limit, isFailing: { _ in false }) { spec in
            probes.started(spec.target.name)
            try? await Task.sleep(for: probeTime)
            probes.ended(spec.target.name)
        }
        await scheduler.setTargets(specs)
        let run = Task { await scheduler.run() }
        try await Task.sleep(for: time)
        scheduler.stop()
        await run.value  // returns once the probes in flight have finished
        let left = await scheduler.inFlightCount
        XCTAssertEqual(left, 0)
        return probes
    }

    func testATargetSlowerThanItsIntervalNeverRunsTwiceAtOnce() async throws {
        let probes = try await run([spec("slow", every: .milliseconds(20))], limit: 10, probeTime: .milliseconds(150),
                                   for: .milliseconds(1000))
        XCTAssertEqual(probes.maxPerTarget, 1, "the target ran twice at once")
        XCTAssertGreaterThanOrEqual(probes.runs["slow"] ?? 0, 4, "it still runs back to back: \(probes.runs)")
    }

    func testTheGlobalLimitHoldsAndEveryTargetRuns() async throws {
        let specs = (0..<10).map { spec("t\($0)", every: .milliseconds(100)) }
        let probes = try await run(specs, limit: 3, probeTime: .milliseconds(60), for: .milliseconds(1500))
        XCTAssertLessThanOrEqual(probes.maxInFlight, 3)
        XCTAssertEqual(probes.maxInFlight, 3, "the limit is used")
        XCTAssertEqual(probes.maxPerTarget, 1)
        XCTAssertEqual(Set(probes.runs.keys), Set(specs.map { $0.target.name }), "every target ran: \(probes.runs)")
    }
}
