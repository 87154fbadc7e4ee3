import Synchronization
import XCTest
@testable import Tracing

final class BatchSpanProcessorTests: XCTestCase {
    let hour = Duration.seconds(3600)
    var gates: [Gate] = []

    override func tearDown() {
        for gate in gates { gate.open() }  // release exporters left hanging on purpose
        gates = []
    }

    func gate() -> Gate {
        let g = Gate()
        gates.append(g)
        return g
    }

    func testQueueBoundDropsAndCountsWhileExporterIsSlow() async {
        let gate = gate()
        let exporter = RecordingExporter(gate: gate)
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(
            scheduleDelay: hour, maxQueueSize: 10, maxExportBatchSize: 5))
        for _ in 0..<5 { processor.onEnd(makeSpan()) }
        let exportStarted = await eventually { exporter.calls == 1 }
        XCTAssertTrue(exportStarted, "a full batch wakes the worker")
        for _ in 0..<15 { processor.onEnd(makeSpan()) }
        var stats = processor.stats
        XCTAssertEqual(stats.queueSize, 10)
        XCTAssertEqual(stats.spansDropped, 5)
        gate.open()
        await processor.shutdown(deadline: .now + .seconds(10))
        stats = processor.stats
        XCTAssertEqual(exporter.spanCount, 15)
        XCTAssertEqual(stats.spansExported, 15)
        XCTAssertEqual(stats.spansDropped, 5)
        XCTAssertEqual(stats.queueSize, 0)
    }

    func testExportsFullBatchesOnlyUntilTimerOrFlush() async {
        let exporter = RecordingExporter()
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(
            scheduleDelay: hour, maxQueueSize: 100, maxExportBatchSize: 10))
        for _ in 0..<25 { processor.onEnd(makeSpan()) }
        let twoBatches = await eventually { exporter.batches.count == 2 }
        XCTAssertTrue(twoBatches)
        XCTAssertEqual(exporter.batches.map(\.count), [10, 10])
        XCTAssertEqual(processor.stats.queueSize, 5, "a partial batch waits for the timer")
        await processor.forceFlush(deadline: .now + .seconds(10))
        XCTAssertEqual(exporter.batches.map(\.count), [10, 10, 5])
        XCTAssertEqual(exporter.flushes, 1)
        await processor.shutdown(deadline: .now + .seconds(1))
    }

    func testScheduleDelayExportsPartialBatch() async {
        let exporter = RecordingExporter()
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(
            scheduleDelay: .milliseconds(20), maxQueueSize: 100, maxExportBatchSize: 50))
        for _ in 0..<3 { processor.onEnd(makeSpan()) }
        let exported = await eventually { exporter.spanCount == 3 }
        XCTAssertTrue(exported, "the timer exports without a flush")
        for _ in 0..<2 { processor.onEnd(makeSpan()) }
        let again = await eventually { exporter.spanCount == 5 }
        XCTAssertTrue(again, "and keeps doing so")
        await processor.shutdown(deadline: .now + .seconds(1))
    }

    func testForceFlushWithNothingQueuedReturns() async {
        let exporter = RecordingExporter()
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(scheduleDelay: hour))
        await processor.forceFlush(deadline: .now + .seconds(10))
        XCTAssertEqual(exporter.calls, 0, "empty batches are skipped")
        await processor.shutdown(deadline: .now + .seconds(1))
    }

    func testShutdownDrainsEverythingWithinDeadline() async {
        let exporter = RecordingExporter(delay: .milliseconds(1))
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(
            scheduleDelay: hour, maxQueueSize: 2048, maxExportBatchSize: 100))
        for _ in 0..<1000 { processor.onEnd(makeSpan()) }
        await processor.shutdown(deadline: .now + .seconds(30))
        let stats = processor.stats
        XCTAssertEqual(exporter.spanCount, 1000)
        XCTAssertEqual(stats.spansExported, 1000)
        XCTAssertEqual(stats.spansUnsentAtShutdown, 0)
        XCTAssertEqual(exporter.shutdowns, 1)
        processor.onEnd(makeSpan())
        XCTAssertEqual(processor.stats.spansDropped, 1, "spans after shutdown are refused and counted")
        await processor.shutdown(deadline: .now + .seconds(1))
        XCTAssertEqual(exporter.shutdowns, 1, "shutdown runs once")
    }

    func testHungExporterTimesOutAndShutdownKeepsItsDeadline() async {
        let exporter = RecordingExporter(gate: gate())
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(
            scheduleDelay: hour, exportTimeout: .milliseconds(50), maxQueueSize: 100, maxExportBatchSize: 10))
        for _ in 0..<10 { processor.onEnd(makeSpan()) }
        let timedOut = await eventually { processor.stats.exportTimeouts == 1 }
        XCTAssertTrue(timedOut, "a hung export is abandoned after the export timeout")
        for _ in 0..<25 { processor.onEnd(makeSpan()) }
        let shutdown = Task { await processor.shutdown(deadline: .now + .milliseconds(300)) }
        let finished: Void? = await untilDeadline(.now + .seconds(20)) { await shutdown.value }
        XCTAssertNotNil(finished, "shutdown returned although the exporter never does")
        let stats = processor.stats
        XCTAssertEqual(stats.spansExported, 0)
        XCTAssertEqual(stats.spansFailed + stats.spansUnsentAtShutdown, 35)
        XCTAssertEqual(UInt64(stats.exportFailures), stats.exportTimeouts)
    }

    func testShutdownDeadlineCutsAnExportLongerThanItself() async {
        let exporter = RecordingExporter(gate: gate())
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(
            scheduleDelay: hour, exportTimeout: hour, maxQueueSize: 100, maxExportBatchSize: 10))
        for _ in 0..<15 { processor.onEnd(makeSpan()) }
        let started = await eventually { exporter.calls == 1 }
        XCTAssertTrue(started)
        let shutdown = Task { await processor.shutdown(deadline: .now + .milliseconds(200)) }
        let finished: Void? = await untilDeadline(.now + .seconds(20)) { await shutdown.value }
        XCTAssertNotNil(finished)
        let stats = processor.stats
        XCTAssertEqual(stats.spansFailed, 10, "the in-flight batch is given up at the shutdown deadline")
        XCTAssertEqual(stats.spansUnsentAtShutdown, 5)
        XCTAssertEqual(stats.queueSize, 0)
    }

    func testExportsAreSerialised() async {
        let exporter = RecordingExporter(delay: .milliseconds(2))
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(
            scheduleDelay: .milliseconds(1), maxQueueSize: 4096, maxExportBatchSize: 20))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<250 { processor.onEnd(makeSpan()) }
                    await processor.forceFlush(deadline: .now + .seconds(10))
                }
            }
        }
        await processor.shutdown(deadline: .now + .seconds(10))
        XCTAssertEqual(exporter.spanCount, 1000)
        XCTAssertEqual(exporter.maxInFlight, 1)
        XCTAssertTrue(exporter.batches.allSatisfy { $0.count <= 20 })
    }

    func testFailedExportsAreCounted() async {
        let exporter = RecordingExporter(result: .failure)
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(
            scheduleDelay: hour, maxQueueSize: 100, maxExportBatchSize: 4))
        for _ in 0..<10 { processor.onEnd(makeSpan()) }
        await processor.forceFlush(deadline: .now + .seconds(10))
        let stats = processor.stats
        XCTAssertEqual(stats.exportFailures, 3)
        XCTAssertEqual(stats.spansFailed, 10)
        XCTAssertEqual(stats.spansExported, 0)
        XCTAssertEqual(stats.exportTimeouts, 0)
        await processor.shutdown(deadline: .now + .seconds(1))
    }

    func testForceFlushHonoursDeadline() async {
        let exporter = RecordingExporter(gate: gate())
        let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(scheduleDelay: hour, exportTimeout: hour))
        processor.onEnd(makeSpan())
        let flush = Task { await processor.forceFlush(deadline: .now + .milliseconds(100)) }
        let returned: Void? = await untilDeadline(.now + .seconds(20)) { await flush.value }
        XCTAssertNotNil(returned)
    }

    func testTracerThroughBatchProcessor() async {
        let exporter = RecordingExporter()
        let processor = BatchSpanProcessor(exporter: exporter)
        let tracer = Tracer(scope: .test, processor: processor)
        await tracer.withSpan("probe") { _ in await tracer.withSpan("GET", kind: .client) { _ in } }
        await processor.shutdown(deadline: .now + .seconds(10))
        XCTAssertEqual(exporter.batches.flatMap { $0 }.map(\.name), ["GET", "probe"])
    }

    final class ContextSeeingExporter: SpanExporter {
        let seen = Mutex<[SpanID?]>([])
        func export(_ batch: [SpanData]) async -> ExportResult {
            seen.withLock { $0.append(Span.current?.context.spanID) }
            return .success
        }
    }

    func testWorkerDoesNotInheritTheCreatorsSpan() async {
        let exporter = ContextSeeingExporter()
        let tracer = Tracer(scope: .test, processor: CollectingProcessor())
        let processor = await tracer.withSpan("creator") { _ in
            BatchSpanProcessor(exporter: exporter, config: BatchConfig(scheduleDelay: hour))
        }
        processor.onEnd(makeSpan())
        await processor.shutdown(deadline: .now + .seconds(10))
        XCTAssertEqual(exporter.seen.withLock { $0 }, [nil])
    }

    func testUnreleasedProcessorStopsItsWorker() async {
        weak var weakCore: AnyObject?
        do {
            let processor = BatchSpanProcessor(exporter: RecordingExporter(), config: BatchConfig(scheduleDelay: hour))
            weakCore = Mirror(reflecting: processor).children.first { $0.label == "core" }?.value as AnyObject
            processor.onEnd(makeSpan())
        }
        let released = await eventually { weakCore == nil }
        XCTAssertTrue(released, "deinit stops the worker, which releases the queue")
    }
}

final class BatchConfigTests: XCTestCase {
    func testProcessorSanitisesConfig() {
        let processor = BatchSpanProcessor(exporter: RecordingExporter(), config: BatchConfig(
            scheduleDelay: .seconds(-1), exportTimeout: .zero, maxQueueSize: 0, maxExportBatchSize: 10))
        XCTAssertEqual(processor.config.maxQueueSize, 1)
        XCTAssertEqual(processor.config.maxExportBatchSize, 1)
        XCTAssertEqual(processor.config.scheduleDelay, .zero)
        XCTAssertEqual(processor.config.exportTimeout, .milliseconds(Int(Int32.max)))
    }
}
