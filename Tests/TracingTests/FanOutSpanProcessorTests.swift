import XCTest
@testable import Tracing

/// Each exporter behind its own queue: a hung one delays and drops nothing of the others.
final class FanOutSpanProcessorTests: XCTestCase {
    func testAHungExporterDelaysNothingOfTheOther() async {
        let hung = Gate()
        defer { hung.open() }
        let stuck = RecordingExporter(gate: hung)
        let healthy = RecordingExporter()
        let config = BatchConfig(scheduleDelay: .milliseconds(20), maxQueueSize: 100, maxExportBatchSize: 10)
        let stuckQueue = BatchSpanProcessor(exporter: stuck, config: config)
        let healthyQueue = BatchSpanProcessor(exporter: healthy, config: config)
        let fanOut = FanOutSpanProcessor([stuckQueue, healthyQueue])
        for _ in 0..<1_000 {  // ten times the queue: the hung side must drop, the other must not
            fanOut.onEnd(makeSpan())
            if healthyQueue.stats.queueSize > 50 { _ = await eventually(timeout: .seconds(1)) { healthyQueue.stats.queueSize < 50 } }
        }
        let all = await eventually(timeout: .seconds(2)) { healthy.spanCount == 1_000 }
        XCTAssertTrue(all, "the healthy exporter got \(healthy.spanCount) of 1000 spans")
        XCTAssertEqual(healthyQueue.stats.spansDropped, 0)
        XCTAssertGreaterThan(stuckQueue.stats.spansDropped, 0, "the hung exporter's own queue overflowed")
    }

    func testShutdownRunsOnEveryQueueAtOnceWithinTheDeadline() async {
        let hung = Gate()
        defer { hung.open() }
        let stuck = RecordingExporter(gate: hung)
        let healthy = RecordingExporter()
        let config = BatchConfig(scheduleDelay: .seconds(3600), maxQueueSize: 100, maxExportBatchSize: 10)
        let fanOut = FanOutSpanProcessor([BatchSpanProcessor(exporter: stuck, config: config),
                                          BatchSpanProcessor(exporter: healthy, config: config)])
        for _ in 0..<25 { fanOut.onEnd(makeSpan()) }
        let start = ContinuousClock.now
        await fanOut.shutdown(deadline: .now + .milliseconds(500))
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
        XCTAssertEqual(healthy.spanCount, 25, "flushed while the other queue hung")
        XCTAssertEqual(healthy.shutdowns, 1)
    }
}
