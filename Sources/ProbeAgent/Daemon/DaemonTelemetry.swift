import Foundation
import Synchronization
import OTLPExporter
import ProbeLogic
import Tracing

/// The daemon's telemetry pipeline: tracer → (failure-biased) batch processor → exporters, and
/// the metrics registry with its periodic OTLP reader. Built once from config + OTEL_* env.
final class DaemonTelemetry: Sendable {
    let tracer: Tracer
    let registry: MetricsRegistry
    let batch: BatchSpanProcessor
    let spanExporter: (any SpanExporter)?
    let otlpSpans: OTLPHTTPSpanExporter?
    let otlpMetrics: OTLPHTTPMetricExporter?
    private let processor: any SpanProcessor
    private let reader: PeriodicMetricReader?
    private let selfMetrics: SelfMetrics

    init(exporter settings: ExporterSettings?, environment: [String: String],
         diagnostics: @escaping DiagnosticsSink) throws {
        let env = ExporterEnvironment.merge(settings, into: environment)
        let config = try OTLPExporterConfig.fromEnvironment(env)
        config.warnings.forEach(diagnostics)
        let otlpConfigured = ExporterEnvironment.hasEndpoint(env)

        var spanExporters: [any SpanExporter] = []
        otlpSpans = otlpConfigured && config.traces.enabled && config.traces.exporter == .otlp
            ? OTLPHTTPSpanExporter(config: config.traces, diagnostics: diagnostics) : nil
        otlpMetrics = otlpConfigured && config.metrics.enabled && config.metrics.exporter == .otlp
            ? OTLPHTTPMetricExporter(config: config.metrics, diagnostics: diagnostics) : nil
        if let otlpSpans { spanExporters.append(otlpSpans) }
        if let file = settings?.file {
            spanExporters.append(try OTLPFileExporter(path: file, resource: config.traces.resource))
        }
        if settings?.console == true || config.traces.exporter == .console {
            spanExporters.append(OTLPFileExporter.standardOutput(resource: config.traces.resource))
        }
        spanExporter = spanExporters.isEmpty ? nil : FanOutSpanExporter(spanExporters)

        let (batchConfig, batchWarnings) = BatchConfig.fromEnvironment(env)
        batchWarnings.forEach(diagnostics)
        batch = BatchSpanProcessor(exporter: spanExporter ?? DiscardingSpanExporter(), config: batchConfig)
        let sampler: any Sampler
        switch settings?.sampling ?? .alwaysOn {
        case .alwaysOn:
            let (samplerConfig, warnings) = SamplerConfig.fromEnvironment(env)
            warnings.forEach(diagnostics)
            sampler = samplerConfig.makeSampler()
            processor = batch
        case .ratio(let ratio):
            sampler = ParentBasedSampler(root: TraceIDRatioSampler(ratio: ratio))
            processor = batch
        case .failureBiased(let ratio):
            sampler = AlwaysOnSampler()
            processor = FailureBiasedSpanProcessor(ratio: ratio, next: batch)
        }
        let (limits, limitWarnings) = SpanLimits.fromEnvironment(env)
        limitWarnings.forEach(diagnostics)
        tracer = Tracer(sampler: sampler, processor: processor, limits: limits)

        let (readerConfig, readerWarnings) = MetricReaderConfig.fromEnvironment(env)
        readerWarnings.forEach(diagnostics)
        let registry = MetricsRegistry(cardinalityLimit: 200_000)
        self.registry = registry
        selfMetrics = SelfMetrics(registry: registry)
        reader = otlpMetrics.map {
            PeriodicMetricReader(registry: registry, exporter: $0, interval: readerConfig.interval,
                                 timeout: readerConfig.timeout, temporality: readerConfig.temporality)
        }
    }

    func start() { reader?.start() }

    /// A cumulative snapshot for `/metrics`, with the exporter's own counters brought up to date.
    func snapshot() -> [MetricData] {
        selfMetrics.update(batch: batch.stats, spans: otlpSpans?.stats, metrics: otlpMetrics?.stats)
        return registry.collect(temporality: .cumulative)
    }

    /// Drains spans and metrics within one deadline.
    func shutdown(deadline: ContinuousClock.Instant) async {
        await processor.shutdown(deadline: deadline)
        await reader?.shutdown(deadline: deadline)
    }
}

/// The exporter's and the span queue's own counters, as metrics (counters advance by the change
/// since the last update).
final class SelfMetrics: Sendable {
    private let exported: Counter
    private let dropped: Counter
    private let failed: Counter
    private let retries: Counter
    private let queueSize: Gauge
    private let spansDropped: Counter
    private let seen = Mutex<[String: Int]>([:])

    init(registry: MetricsRegistry) {
        exported = registry.counter("otlp.exporter.exported", unit: "1", description: "Items the collector accepted")
        dropped = registry.counter("otlp.exporter.dropped", unit: "1", description: "Items dropped, by reason")
        failed = registry.counter("otlp.exporter.failed", unit: "1", description: "Export requests that failed")
        retries = registry.counter("otlp.exporter.retries", unit: "1", description: "Export retries")
        queueSize = registry.gauge("otlp.exporter.queue_size", unit: "1", description: "Spans waiting to be exported")
        spansDropped = registry.counter("probe_agent.spans.dropped", unit: "1", description: "Spans dropped because the queue was full")
        spansDropped.add(0)
    }

    func update(batch: BatchSpanProcessor.Stats, spans: ExporterStats?, metrics: ExporterStats?) {
        queueSize.set(batch.queueSize, attributes: [Attribute("signal", .string("traces"))])
        advance(spansDropped, "spans.dropped", to: Int(batch.spansDropped), attributes: [])
        for (signal, stats) in [("traces", spans), ("metrics", metrics)] {
            guard let stats else { continue }
            let s = [Attribute("signal", .string(signal))]
            advance(exported, "\(signal).exported", to: stats.exported, attributes: s)
            advance(failed, "\(signal).failed", to: stats.failures, attributes: s)
            advance(retries, "\(signal).retries", to: stats.retries, attributes: s)
            for (reason, count) in [("non_retryable", stats.droppedNonRetryable), ("retry_exhausted", stats.droppedRetryExhausted),
                                    ("too_large", stats.droppedTooLarge), ("shutdown", stats.droppedAtShutdown),
                                    ("rejected", stats.rejectedPartial)] {
                advance(dropped, "\(signal).dropped.\(reason)", to: count, attributes: s + [Attribute("reason", .string(reason))])
            }
        }
    }

    private func advance(_ counter: Counter, _ key: String, to total: Int, attributes: [Attribute]) {
        let delta = seen.withLock { seen -> Int in
            defer { seen[key] = total }
            return total - (seen[key] ?? 0)
        }
        if delta >= 0 { counter.add(delta, attributes: attributes) }
    }
}

/// Used when nothing is configured to receive spans: they are counted, then dropped.
struct DiscardingSpanExporter: SpanExporter {
    func export(_ batch: [SpanData]) async -> ExportResult { .success }
}

/// The config file's `exporter:` section overrides the OTEL_* environment (design: "the config
/// file can override them").
enum ExporterEnvironment {
    static func merge(_ settings: ExporterSettings?, into environment: [String: String]) -> [String: String] {
        guard let settings else { return environment }
        var env = environment
        if let endpoint = settings.endpoint {
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
            env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = nil
            env["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = nil
        }
        if let proto = settings.protocol { env["OTEL_EXPORTER_OTLP_PROTOCOL"] = proto.rawValue }
        if let compression = settings.compression { env["OTEL_EXPORTER_OTLP_COMPRESSION"] = compression.rawValue }
        if let timeout = settings.timeout { env["OTEL_EXPORTER_OTLP_TIMEOUT"] = String(Int(timeout.secondsValue * 1000)) }
        if !settings.headers.isEmpty {
            env["OTEL_EXPORTER_OTLP_HEADERS"] = settings.headers.sorted { $0.key < $1.key }
                .map { "\($0.key)=\(percentEncoded($0.value.value))" }.joined(separator: ",")
        }
        return env
    }

    static func hasEndpoint(_ env: [String: String]) -> Bool {
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]
            .contains { !(env[$0] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
    }

    static func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~ ")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
