import Foundation
import OTLPExporter
import Synchronization
import Tracing

/// The tracing pipeline of one command: a tracer, what its spans go to, and shutdown.
final class Telemetry: Sendable {
    let tracer: Tracer
    let warnings: [String]
    private let collector: CollectingSpanExporter
    private let processor: any SpanProcessor

    private init(tracer: Tracer, processor: any SpanProcessor, collector: CollectingSpanExporter, warnings: [String]) {
        self.tracer = tracer
        self.processor = processor
        self.collector = collector
        self.warnings = warnings
    }

    /// For `check`: every span is kept for printing, and exported over OTLP when an endpoint is
    /// given (flag or OTEL_* environment).
    static func forOneShot(otlpEndpoint: String?, environment: [String: String]) throws -> Telemetry {
        let collector = CollectingSpanExporter()
        var exporters: [any SpanExporter] = [collector]
        var warnings: [String] = []
        if let otlp = try OTLPWiring.spanExporter(endpointOverride: otlpEndpoint, environment: environment, warnings: &warnings) {
            exporters.append(otlp)
        }
        let processor = SimpleSpanProcessor(exporter: FanOutSpanExporter(exporters))
        return Telemetry(tracer: Tracer(processor: processor), processor: processor, collector: collector, warnings: warnings)
    }

    func collected() -> [SpanData] { collector.spans }

    func shutdown(timeout: Duration = .seconds(10)) async {
        await processor.shutdown(deadline: .now + timeout)
    }
}

/// Keeps every exported span in memory (for printing after a one-shot probe).
final class CollectingSpanExporter: SpanExporter {
    private let stored = Mutex<[SpanData]>([])

    var spans: [SpanData] { stored.withLock { $0 } }

    func export(_ batch: [SpanData]) async -> ExportResult {
        stored.withLock { $0.append(contentsOf: batch) }
        return .success
    }
}

/// Sends each batch to several exporters.
struct FanOutSpanExporter: SpanExporter {
    let exporters: [any SpanExporter]

    init(_ exporters: [any SpanExporter]) { self.exporters = exporters }

    func export(_ batch: [SpanData]) async -> ExportResult {
        var result = ExportResult.success
        for exporter in exporters where await exporter.export(batch) == .failure { result = .failure }
        return result
    }

    func forceFlush(deadline: ContinuousClock.Instant) async {
        for exporter in exporters { await exporter.forceFlush(deadline: deadline) }
    }

    func shutdown(deadline: ContinuousClock.Instant) async {
        for exporter in exporters { await exporter.shutdown(deadline: deadline) }
    }
}
