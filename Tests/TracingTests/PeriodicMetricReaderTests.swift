import Synchronization
import XCTest
@testable import Tracing

final class RecordingMetricExporter: MetricExporter {
    private let state = Mutex<(exports: [[MetricData]], shutdowns: Int)>(([], 0))
    let gate: Gate?
    init(gate: Gate? = nil) { self.gate = gate }
    var exports: [[MetricData]] { state.withLock { $0.exports } }
    var shutdowns: Int { state.withLock { $0.shutdowns } }
    func export(_ metrics: [MetricData]) async -> ExportResult {
        if let gate { await gate.wait() }
        state.withLock { $0.exports.append(metrics) }
        return .success
    }
    func shutdown(deadline: ContinuousClock.Instant) async { state.withLock { $0.shutdowns += 1 } }
}

final class PeriodicMetricReaderTests: XCTestCase {
    func testExportsPeriodically() async {
        let registry = MetricsRegistry(scope: .test)
        registry.counter("c").add(1)
        let exporter = RecordingMetricExporter()
        let reader = PeriodicMetricReader(registry: registry, exporter: exporter, interval: .milliseconds(10))
        XCTAssertTrue(exporter.exports.isEmpty)
        reader.start()
        reader.start()
        let exported = await eventually { exporter.exports.count >= 3 }
        XCTAssertTrue(exported)
        XCTAssertEqual(exporter.exports.first?.first?.name, "c")
        await reader.shutdown(deadline: .now + .seconds(5))
        XCTAssertEqual(exporter.shutdowns, 1)
        let count = exporter.exports.count
        try? await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(exporter.exports.count, count, "no exports after shutdown")
        XCTAssertGreaterThanOrEqual(reader.stats.exports, 3)
    }

    func testForceFlushAndShutdownExportNow() async {
        let registry = MetricsRegistry(scope: .test)
        let exporter = RecordingMetricExporter()
        let reader = PeriodicMetricReader(registry: registry, exporter: exporter, interval: .seconds(3600))
        reader.start()
        await reader.forceFlush(deadline: .now + .seconds(5))
        XCTAssertTrue(exporter.exports.isEmpty, "nothing recorded: nothing sent")
        registry.gauge("g").set(1)
        await reader.forceFlush(deadline: .now + .seconds(5))
        XCTAssertEqual(exporter.exports.count, 1)
        registry.gauge("g").set(2)
        await reader.shutdown(deadline: .now + .seconds(5))
        XCTAssertEqual(exporter.exports.count, 2, "shutdown exports a last snapshot")
        XCTAssertEqual(exporter.exports.last?.first?.numberPoints.first?.value, .int(2))
        await reader.shutdown(deadline: .now + .seconds(5))
        XCTAssertEqual(exporter.shutdowns, 1)
    }

    func testDeltaReaderSendsOnlyNewData() async throws {
        let registry = MetricsRegistry(scope: .test)
        let counter = registry.counter("c")
        let exporter = RecordingMetricExporter()
        let reader = PeriodicMetricReader(registry: registry, exporter: exporter,
                                          config: MetricReaderConfig(interval: .seconds(3600), temporality: .delta))
        counter.add(5)
        await reader.forceFlush(deadline: .now + .seconds(5))
        counter.add(2)
        await reader.forceFlush(deadline: .now + .seconds(5))
        let values = exporter.exports.map { $0.first?.numberPoints.first?.value }
        XCTAssertEqual(values, [.int(5), .int(2)])
    }

    func testHungExporterTimesOutWithoutBlockingRecorders() async {
        let gate = Gate()
        defer { gate.open() }
        let registry = MetricsRegistry(scope: .test)
        let counter = registry.counter("c")
        counter.add(1)
        let reader = PeriodicMetricReader(registry: registry, exporter: RecordingMetricExporter(gate: gate),
                                          interval: .seconds(3600), timeout: .milliseconds(30))
        await reader.forceFlush(deadline: .now + .seconds(10))
        XCTAssertEqual(reader.stats.exportTimeouts, 1)
        XCTAssertEqual(reader.stats.exportFailures, 1)
        counter.add(1)  // would deadlock if collection or export held the instrument
        let flush = Task { await reader.forceFlush(deadline: .now + .milliseconds(100)) }
        let returned: Void? = await untilDeadline(.now + .seconds(20)) { await flush.value }
        XCTAssertNotNil(returned)
        let shutdown = Task { await reader.shutdown(deadline: .now + .milliseconds(100)) }
        let shutDown: Void? = await untilDeadline(.now + .seconds(20)) { await shutdown.value }
        XCTAssertNotNil(shutDown)
    }
}
