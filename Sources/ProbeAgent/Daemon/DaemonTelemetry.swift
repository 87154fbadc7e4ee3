import Foundation
import Synchronization
import OTLPExporter
import ProbeLogic
import Tracing

/// The daemon's telemetry pipeline: tracer → (failure-biased) processor → one batch queue per span
/// exporter (OTLP, file, console: a slow collector delays nothing else), and the metrics registry
/// with its periodic OTLP reader. Built once from config + OTEL_* env.
final class DaemonTelemetry: Sendable {
    let tracer: Tracer
    let registry: MetricsRegistry
    /// One per span exporter, each with its own queue and worker.
    let spanQueues: [SpanExportQueue]
    let otlpSpans: OTLPHTTPSpanExporter?
    let otlpMetrics: OTLPHTTPMetricExporter?
    private let processor: any SpanProcessor
    private let reader: PeriodicMetricReader?
    private let dropWatch: QueueDropWatch
    private let diagnostics: DiagnosticsSink

    init(exporter settings: ExporterSettings?, environment: [String: String],
         diagnostics: @escaping DiagnosticsSink) throws {
        self.diagnostics = diagnostics
        let warn: (String) -> Void = { diagnostics(Diagnostic(.warning, $0)) }
        let env = ExporterEnvironment.merge(settings, into: environment)
        let config = try OTLPExporterConfig.fromEnvironment(env)
        config.warnings.forEach(warn)
        let otlpConfigured = ExporterEnvironment.hasEndpoint(env)
        let (spoolConfig, spoolWarnings) = SpoolSettings.resolve(settings?.spool, environment: env)
        spoolWarnings.forEach(warn)
        let spool = otlpConfigured ? spoolConfig.map { Spool(config: $0, diagnostics: diagnostics) } : nil

        otlpSpans = otlpConfigured && config.traces.enabled && config.traces.exporter == .otlp
            ? OTLPHTTPSpanExporter(config: config.traces, spool: spool, diagnostics: diagnostics) : nil
        otlpMetrics = otlpConfigured && config.metrics.enabled && config.metrics.exporter == .otlp
            ? OTLPHTTPMetricExporter(config: config.metrics, spool: spool, diagnostics: diagnostics) : nil
        var spanExporters: [(name: String, exporter: any SpanExporter)] = []
        if let otlpSpans { spanExporters.append(("otlp", otlpSpans)) }
        if let file = settings?.file {
            spanExporters.append(("file", try OTLPFileExporter(path: file, resource: config.traces.resource,
                                                                   diagnostics: diagnostics)))
        }
        if settings?.console == true || config.traces.exporter == .console {
            spanExporters.append(("console", OTLPFileExporter.standardOutput(resource: config.traces.resource, diagnostics: diagnostics)))
        }

        let (batchConfig, batchWarnings) = BatchConfig.fromEnvironment(env)
        batchWarnings.forEach(warn)
        spanQueues = spanExporters.map {
            SpanExportQueue(name: $0.name, processor: BatchSpanProcessor(exporter: $0.exporter, config: batchConfig))
        }
        // With one exporter its queue takes the spans directly: the per-span path stays one enqueue.
        let queues: any SpanProcessor = spanQueues.count == 1 ? spanQueues[0].processor
            : FanOutSpanProcessor(spanQueues.map(\.processor))
        let sampler: any Sampler
        switch settings?.sampling ?? .alwaysOn {
        case .alwaysOn:
            let (samplerConfig, warnings) = SamplerConfig.fromEnvironment(env)
            warnings.forEach(warn)
            sampler = samplerConfig.makeSampler()
            processor = queues
        case .ratio(let ratio):
            sampler = ParentBasedSampler(root: TraceIDRatioSampler(ratio: ratio))
            processor = queues
        case .failureBiased(let ratio):
            sampler = AlwaysOnSampler()
            processor = FailureBiasedSpanProcessor(ratio: ratio, next: queues, keep: ProbeTraceRule.keeps)
        }
        let (limits, limitWarnings) = SpanLimits.fromEnvironment(env)
        limitWarnings.forEach(warn)
        tracer = Tracer(sampler: sampler, processor: processor, limits: limits)
        dropWatch = QueueDropWatch(queues: spanQueues, diagnostics: diagnostics)

        let (readerConfig, readerWarnings) = MetricReaderConfig.fromEnvironment(env)
        readerWarnings.forEach(warn)
        let registry = MetricsRegistry(cardinalityLimit: 200_000)
        self.registry = registry
        let selfMetrics = SelfMetrics(registry: registry)
        let (exportQueues, spans, metrics) = (spanQueues, otlpSpans, otlpMetrics)
        registry.beforeCollect { selfMetrics.update(queues: exportQueues, spans: spans?.stats, metrics: metrics?.stats) }
        if let spool { SpoolMetrics(registry: registry, spool: spool, spans: otlpSpans, metrics: otlpMetrics) }
        reader = otlpMetrics.map {
            PeriodicMetricReader(registry: registry, exporter: $0, interval: readerConfig.interval,
                                 timeout: readerConfig.timeout, temporality: readerConfig.temporality)
        }
    }

    func start() {
        reader?.start()
        dropWatch.start()
    }

    /// A cumulative snapshot for `/metrics` (the exporter's own counters are brought up to date
    /// before every collection, this one and the OTLP reader's alike).
    func snapshot() -> [MetricData] {
        registry.collect(temporality: .cumulative)
    }

    /// Drains spans and metrics within one deadline, every exporter at once, and logs what each delivered.
    func shutdown(deadline: ContinuousClock.Instant) async {
        dropWatch.stop()
        async let spans: Void = processor.shutdown(deadline: deadline)
        async let metrics: Void? = reader?.shutdown(deadline: deadline)
        _ = await (spans, metrics)
        for queue in spanQueues { diagnostics(Diagnostic(.info, queue.shutdownSummary)) }
    }
}

/// One span exporter behind its own batch queue, named as logs and metrics name it.
struct SpanExportQueue: Sendable {
    /// `otlp`, `file` or `console`.
    let name: String
    let processor: BatchSpanProcessor

    var shutdownSummary: String {
        let s = processor.stats
        return "span queue of the \(name) exporter shut down: \(s.spansExported) spans exported, \(s.spansFailed) failed, "
            + "\(s.spansDropped) dropped as the queue was full, \(s.spansUnsentAtShutdown) unsent at the shutdown deadline"
    }
}

/// Logs queue-full drops as they start, then as `OutageLog` allows (a summary a minute, the end
/// with the total), by reading each queue's drop count once a second: the enqueue path stays a
/// few instructions under a lock.
final class QueueDropWatch: Sendable {
    private let queues: [SpanExportQueue]
    private let logs: [OutageLog]
    private let seen: Mutex<[UInt64]>
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(queues: [SpanExportQueue], diagnostics: @escaping DiagnosticsSink) {
        self.queues = queues
        logs = queues.map { OutageLog(subject: "span queue of the \($0.name) exporter", unit: "spans", sink: diagnostics) }
        seen = Mutex(Array(repeating: 0, count: queues.count))
    }

    func start(every interval: Duration = .seconds(1)) {
        guard !queues.isEmpty else { return }
        let watch = Task.detached { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                check()
            }
        }
        task.withLock { $0 = watch }
    }

    func stop() { task.withLock { $0 }?.cancel() }

    /// Reports the drops since the last check, or that the queue has room again.
    func check() {
        let stats = queues.map { $0.processor.stats }
        let previous = seen.withLock { seen in
            defer { seen = stats.map(\.spansDropped) }
            return seen
        }
        for (i, queue) in queues.enumerated() {
            let new = Int(stats[i].spansDropped - previous[i])
            let capacity = queue.processor.config.maxQueueSize
            if new > 0 {
                logs[i].failure("full at \(capacity) spans (the exporter is slower than spans arrive); "
                    + "\(new) new spans dropped", dropped: new)
            } else if stats[i].queueSize < capacity {  // a full queue that drops nothing only lacks new spans
                logs[i].success()
            }
        }
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
    private let totals = CounterTotals()

    init(registry: MetricsRegistry) {
        exported = registry.counter("otlp.exporter.exported", unit: "1", description: "Items the collector accepted")
        dropped = registry.counter("otlp.exporter.dropped", unit: "1", description: "Items dropped, by reason")
        failed = registry.counter("otlp.exporter.failed", unit: "1", description: "Export requests that failed")
        retries = registry.counter("otlp.exporter.retries", unit: "1", description: "Export retries")
        queueSize = registry.gauge("otlp.exporter.queue_size", unit: "1", description: "Spans waiting to be exported")
        spansDropped = registry.counter("probe_agent.spans.dropped", unit: "1", description: "Spans dropped because the queue was full")
        spansDropped.add(0)
    }

    func update(queues: [SpanExportQueue], spans: ExporterStats?, metrics: ExporterStats?) {
        for queue in queues {
            let stats = queue.processor.stats
            let exporter = Attribute("exporter", .string(queue.name))
            queueSize.set(stats.queueSize, attributes: [Attribute("signal", .string("traces")), exporter])
            advance(spansDropped, "spans.dropped.\(queue.name)", to: Int(stats.spansDropped), attributes: [exporter])
        }
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
        totals.advance(counter, key, to: total, attributes: attributes)
    }
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
        if let timeout = settings.timeout { env["OTEL_EXPORTER_OTLP_TIMEOUT"] = String(Int(timeout.milliseconds)) }
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
