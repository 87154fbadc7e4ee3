import Foundation
import HTTPClient
import OTLPExporter
import Synchronization
import Tracing

/// The tracing pipeline of one command: a tracer, what its spans go to, and shutdown.
final class Telemetry: Sendable {
    /// The instrumentation scope of every span and metric the agent makes (`check` and `run`).
    static let scope = InstrumentationScope(name: "probe-agent")

    let tracer: Tracer
    let warnings: [String]
    private let collector: CollectingSpanExporter
    private let processor: any SpanProcessor
    private let otlp: OTLPHTTPSpanExporter?

    private init(tracer: Tracer, processor: any SpanProcessor, collector: CollectingSpanExporter,
                 otlp: OTLPHTTPSpanExporter?, warnings: [String]) {
        self.tracer = tracer
        self.processor = processor
        self.collector = collector
        self.otlp = otlp
        self.warnings = warnings
    }

    /// For `check`: every span is kept for printing, and exported over OTLP when an endpoint is
    /// given (flag or OTEL_* environment).
    static func forOneShot(otlpEndpoint: String?, environment: [String: String]) throws -> Telemetry {
        let collector = CollectingSpanExporter()
        var exporters: [any SpanExporter] = [collector]
        var warnings: [String] = []
        let exporter = try OTLPWiring.spanExporter(endpointOverride: otlpEndpoint, environment: environment, warnings: &warnings)
        if let exporter { exporters.append(exporter) }
        let processor = SimpleSpanProcessor(exporter: FanOutSpanExporter(exporters))
        return Telemetry(tracer: Tracer(scope: scope, processor: processor), processor: processor, collector: collector,
                         otlp: exporter as? OTLPHTTPSpanExporter, warnings: warnings)
    }

    func collected() -> [SpanData] { collector.spans }

    /// Delivers the spans within `timeout`, then cuts the export short: a collector that is down
    /// or slow must not hold a one-shot command up (its retries would take the OTLP timeout per span).
    func shutdown(timeout: Duration = .seconds(5)) async {
        let deadline = ContinuousClock.now + timeout
        let processor = self.processor, otlp = self.otlp
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.shutdown(deadline: deadline) }
            group.addTask {
                guard (try? await Task.sleep(until: deadline)) != nil else { return }
                await otlp?.shutdown(deadline: .now)
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// After `shutdown`: what did not reach the collector, in one line; nil when everything did.
    var exportProblem: String? {
        guard let otlp else { return nil }
        let stats = otlp.stats
        let lost = stats.dropped + stats.rejectedPartial
        guard lost > 0 else { return nil }
        return "\(lost) of \(lost + stats.exported) spans not exported to \(HTTPURL.redact(otlp.config.endpoint))"
            + (stats.lastError.map { " (\($0))" } ?? "")
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
