import Foundation
import Tracing
import XCTest
@testable import ProbeAgent

/// The watchdog's decision (with an injected clock), the scheduler's heartbeat, the bounded wait
/// the shutdown is built on, and the log queue's bounds.
final class WatchdogAndLogQueueTests: XCTestCase {
    func testHeartbeatFailsOnceSilentLongerThanItsLimit() {
        let origin = ContinuousClock.now
        let heartbeat = Heartbeat(limit: .seconds(10), origin: origin)
        XCTAssertTrue(heartbeat.isAlive(at: origin + .seconds(9)), "just started")
        XCTAssertFalse(heartbeat.isAlive(at: origin + .seconds(11)), "never beat")
        heartbeat.beat(at: origin + .seconds(20))
        XCTAssertTrue(heartbeat.isAlive(at: origin + .seconds(30)))
        XCTAssertFalse(heartbeat.isAlive(at: origin + .milliseconds(30_001)), "a stuck scheduler")
        heartbeat.stop()
        XCTAssertTrue(heartbeat.isAlive(at: origin + .seconds(3600)), "stopped on purpose is not stuck")
        heartbeat.beat(at: origin + .seconds(3600))
        XCTAssertTrue(heartbeat.isAlive(at: origin + .seconds(7200)), "a late beat does not undo the stop")
    }

    /// No targets at all: the loop still wakes (and beats) at least every `Scheduler.maxSleep`.
    func testSchedulerBeatsWithoutTargets() async throws {
        let origin = ContinuousClock.now
        let heartbeat = Heartbeat(limit: .milliseconds(600), origin: origin)
        let scheduler = Scheduler(maxConcurrency: 1, heartbeat: heartbeat, isFailing: { _ in false }) { _ in }
        let running = Task { await scheduler.run() }
        for _ in 0..<8 {
            try await Task.sleep(for: .milliseconds(250))
            XCTAssertTrue(heartbeat.isAlive(), "silent for more than 600 ms")
        }
        scheduler.stop()
        await running.value
    }

    func testWaitForATaskEndsAtTheDeadlineWhenTheTaskIgnoresCancellation() async {
        let stubborn = Task { for _ in 0..<50 { usleep(20_000) } }  // 1 s, never checks cancellation
        let start = ContinuousClock.now
        let finished = await Agent.wait(for: stubborn, until: start + .milliseconds(100))
        XCTAssertFalse(finished)
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(500))
        let quick = Task {}
        let quickFinished = await Agent.wait(for: quick, until: .now + .seconds(5))
        XCTAssertTrue(quickFinished)
    }

    /// A pipe nobody reads: appending never blocks; what does not fit is dropped and counted.
    func testLogQueueDropsAndCountsWhatDoesNotFitAndNeverBlocks() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        fillPipe(fds[1])
        let queue = LogQueue(fd: fds[1], capacityBytes: 4096)
        let registry = MetricsRegistry(scope: .test)
        let counter = registry.counter("probe_agent.log_lines.dropped")
        let line = String(repeating: "x", count: 99) + "\n"
        let start = ContinuousClock.now
        for _ in 0..<5_000 { queue.append(line) }  // 500 KB into a full pipe and a 4 KiB queue
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        XCTAssertFalse(queue.flush(timeout: .milliseconds(200)), "the reader never reads")
        let dropped = queue.droppedLines[.queueFull] ?? 0
        XCTAssertGreaterThan(dropped, 4000)
        queue.countDrops(in: counter)  // drops before the counter existed count too
        for _ in 0..<100 { queue.append(line) }
        let droppedNow = queue.droppedLines[.queueFull] ?? 0
        XCTAssertEqual(droppedNow, dropped + 100, "still full: the batch being written counts against the bound")
        let metric = registry.collect(temporality: .cumulative).first { $0.name == "probe_agent.log_lines.dropped" }
        guard case .sum(let points, _, _)? = metric?.points else { return XCTFail("no counter: \(String(describing: metric))") }
        let queueFull = points.first { $0.attributes == [Attribute("reason", .string("queue_full"))] }
        XCTAssertEqual(queueFull?.value, .int(Int64(droppedNow)))
    }

    func testLogQueueWritesEveryLineInOrder() async throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        let queue = LogQueue(fd: fds[1])
        let readEnd = fds[0]
        let reader = Task.detached { () -> String in
            var text = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(readEnd, &buffer, buffer.count)
                if n <= 0 { break }
                text += buffer[0..<n]
            }
            return String(decoding: text, as: UTF8.self)
        }
        for i in 0..<2000 { queue.append("line \(i)\n") }
        XCTAssertTrue(queue.flush(timeout: .seconds(5)))
        close(fds[1])
        let text = await reader.value
        XCTAssertEqual(text, (0..<2000).map { "line \($0)\n" }.joined())
        XCTAssertTrue(queue.droppedLines.isEmpty)
    }

    func testLogQueueCountsLinesLostToAClosedReader() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])
        defer { close(fds[1]) }
        signal(SIGPIPE, SIG_IGN)  // as the agent does at start-up
        let queue = LogQueue(fd: fds[1])
        for i in 0..<10 { queue.append("line \(i)\n") }
        XCTAssertTrue(queue.flush(timeout: .seconds(5)))
        XCTAssertEqual(queue.droppedLines[.writeFailed], 10)
    }

    /// Writes into the pipe until it holds no more, as a reader that stopped reading leaves it.
    func fillPipe(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let chunk = [UInt8](repeating: 0x2E, count: 4096)
        while write(fd, chunk, chunk.count) > 0 {}
        _ = fcntl(fd, F_SETFL, flags)
    }

    func testShutdownBoundsLoadWithDefaultsAndAreValidatedLikeOtherDurations() throws {
        let targets = "targets:\n  - name: a\n    url: http://127.0.0.1:1/mcp\n"
        XCTAssertEqual(try ConfigFixture.parse(targets).shutdown, ShutdownSettings(drainTimeout: .seconds(10), flushTimeout: .seconds(5)))
        let set = try ConfigFixture.parse("shutdown:\n  drain_timeout: 20s\n  flush_timeout: 1500ms\n" + targets)
        XCTAssertEqual(set.shutdown, ShutdownSettings(drainTimeout: .seconds(20), flushTimeout: .milliseconds(1500)))
        let errors = ConfigFixture.errors("shutdown:\n  drain_timeout: soon\n  flush_timeout: 0s\n  grace: 1s\n" + targets)
        XCTAssertEqual(errors.count, 3, "\(errors)")
        XCTAssertTrue(errors[0].contains("agent.yaml:2:") && errors[0].contains("shutdown.drain_timeout") && errors[0].contains("not a duration"), errors[0])
        XCTAssertTrue(errors[1].contains("agent.yaml:3:") && errors[1].contains("greater than 0"), errors[1])
        XCTAssertTrue(errors[2].contains("grace"), errors[2])
    }
}
