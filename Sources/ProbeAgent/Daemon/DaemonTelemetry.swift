import Foundation
import Synchronization
import HTTPClient
import OTLPExporter
import ProbeLogic
import Tracing

/// The daemon's telemetry: the tracer, the metrics registry, and the `ExportSetup` that the
/// current `exporter:` section built. The OTEL_* environment is read once, at start; each
/// `exporter:` section (the first, then a reloaded one) is applied on top of it as typed values.
/// A reload that changes the section switches the tracer and the metric export to a new setup
/// and drains the old one in the background; the registry, its instruments and the
/// self-metrics' totals carry on.
final class DaemonTelemetry: Sendable {
    let tracer: Tracer
    let registry: MetricsRegistry
    /// Defaults and OTEL_*: what every `exporter:` section is applied to.
    private let environment: TelemetryConfiguration
    private let sampler: SwitchableSampler
    private let processor: SwitchableSpanProcessor
    private let selfMetrics: SelfMetrics
    /// Opened once, at start, and shared by every setup: a reload keeps it (and what it holds).
    let spool: Spool?
    private let diagnostics: DiagnosticsSink
    private let state: Mutex<State>

    private struct State {
        var current: ExportSetup
        /// Replaced setups still draining, by generation; their counters keep reaching the
        /// self-metrics until they are done.
        var draining: [Int: ExportSetup] = [:]
        var drains: [Int: Task<Void, Never>] = [:]
        var started = false
        var stopped = false
    }

    init(exporter settings: ExporterSettings?, environment env: [String: String],
         diagnostics: @escaping DiagnosticsSink) throws {
        self.diagnostics = diagnostics
        let (environment, warnings) = try TelemetryConfiguration.fromEnvironment(env)
        warnings.forEach { diagnostics(Diagnostic(.warning, $0)) }
        self.environment = environment
        let (spoolConfig, spoolWarnings) = SpoolSettings.resolve(settings?.spool, environment: env)
        spoolWarnings.forEach { diagnostics(Diagnostic(.warning, $0)) }
        let spool = spoolConfig.map { Spool(config: $0, diagnostics: diagnostics) }
        self.spool = spool
        let registry = MetricsRegistry(scope: Telemetry.scope, cardinalityLimit: 200_000)
        self.registry = registry
        let setup = try ExportSetup(settings: settings, environment: environment, registry: registry, spool: spool,
                                    generation: 0, diagnostics: diagnostics)
        sampler = SwitchableSampler(setup.sampler)
        processor = SwitchableSpanProcessor(setup.processor)
        tracer = Tracer(scope: Telemetry.scope, sampler: sampler, processor: processor, limits: environment.traces.limits)
        selfMetrics = SelfMetrics(registry: registry, spool: spool != nil)
        state = Mutex(State(current: setup))
        registry.beforeCollect { [weak self] in self?.updateSelfMetrics() }
        if let spool { SpoolMetrics(registry: registry, spool: spool) }
    }

    /// The current setup's span queues, one per span exporter.
    var spanQueues: [SpanExportQueue] { state.withLock { $0.current.spanQueues } }
    var otlpSpans: OTLPHTTPSpanExporter? { state.withLock { $0.current.otlpSpans } }
    var otlpMetrics: OTLPHTTPMetricExporter? { state.withLock { $0.current.otlpMetrics } }

    func start() {
        let setup = state.withLock { s in
            s.started = true
            return s.current
        }
        setup.start()
    }

    /// A cumulative snapshot for `/metrics` (the exporter's own counters are brought up to date
    /// before every collection, this one and the OTLP reader's alike).
    func snapshot() -> [MetricData] {
        registry.collect(temporality: .cumulative)
    }

    /// Applies a reloaded `exporter:` section; false when it is the running one. Spans that end
    /// from now on go to the new exporters and the metric reader's exports to the new metric
    /// exporter; what the old queues hold still goes to the old exporters, which get
    /// `drainTimeout` for it in the background (each queue's summary is logged when done).
    /// Throws, changing nothing, when the new section cannot be built. One call at a time (the
    /// agent's reloads run one after another).
    func reconfigure(exporter settings: ExporterSettings?, drainTimeout: Duration) throws -> Bool {
        let (stopped, running, generation) = state.withLock { ($0.stopped, $0.current.settings, $0.current.generation) }
        guard !stopped, running != settings else { return false }
        let next = try ExportSetup(settings: settings, environment: environment, registry: registry, spool: spool,
                                   generation: generation + 1, diagnostics: diagnostics)
        let (old, started) = state.withLock { s in
            defer { s.current = next }
            s.draining[s.current.generation] = s.current
            return (s.current, s.started)
        }
        sampler.replace(with: next.sampler)
        // From here on no span reaches the old processor: it can drain without losing a late one.
        _ = processor.replace(with: next.processor)
        // Children a failure-biased processor holds have their root end in the new setup: they go
        // out undecided rather than being lost.
        (old.processor as? FailureBiasedSpanProcessor)?.releasePending()
        if started { next.start() }
        let drain = Task { [self] in
            await old.shutdown(deadline: .now + drainTimeout, diagnostics: diagnostics)
            updateSelfMetrics()  // its final counts
            selfMetrics.forget(generation: old.generation)
            state.withLock { s in
                s.draining[old.generation] = nil
                s.drains[old.generation] = nil
            }
        }
        state.withLock { s in if s.draining[old.generation] != nil { s.drains[old.generation] = drain } }
        diagnostics(Diagnostic(.notice, "exporter reconfigured: \(next.summary); the previous exporters drain "
            + "what they hold within \(drainTimeout)"))
        return true
    }

    /// Drains spans and metrics within one deadline, every exporter at once (a reload's drains
    /// still running included), and logs what each delivered.
    func shutdown(deadline: ContinuousClock.Instant) async {
        let (current, drains) = state.withLock { s in
            s.stopped = true
            return (s.current, Array(s.drains.values))
        }
        await current.shutdown(deadline: deadline, diagnostics: diagnostics)
        for drain in drains { await drain.value }
        spool?.close()
    }

    private func updateSelfMetrics() {
        let setups = state.withLock { [$0.current] + $0.draining.values }
        selfMetrics.update(setups)
    }
}

/// What one `exporter:` section builds on the environment's configuration: the exporters, a
/// batch queue per span exporter (OTLP, file, console: a slow collector delays nothing else),
/// the head sampler, the span processor chain and the periodic metric reader.
final class ExportSetup: Sendable {
    let settings: ExporterSettings?
    /// Counts the setups of one daemon: the first is 0, each reload that changes `exporter:` adds one.
    let generation: Int
    let spanQueues: [SpanExportQueue]
    let otlpSpans: OTLPHTTPSpanExporter?
    let otlpMetrics: OTLPHTTPMetricExporter?
    let sampler: any Sampler
    let processor: any SpanProcessor
    private let reader: PeriodicMetricReader?
    private let dropWatch: QueueDropWatch
    /// For the log line of a reload: the exporters, without header values or URL userinfo.
    let summary: String

    /// `spool`: the daemon's, whatever `settings.spool` says (it is opened once, at start).
    init(settings: ExporterSettings?, environment: TelemetryConfiguration, registry: MetricsRegistry, spool: Spool?,
         generation: Int, diagnostics: @escaping DiagnosticsSink) throws {
        self.settings = settings
        self.generation = generation
        var configuration = environment
        try settings?.apply(to: &configuration)
        let traces = configuration.traces, metrics = configuration.metrics

        otlpSpans = traces.exportsOTLP ? OTLPHTTPSpanExporter(config: traces.otlp, spool: spool, diagnostics: diagnostics) : nil
        otlpMetrics = metrics.exportsOTLP ? OTLPHTTPMetricExporter(config: metrics.otlp, spool: spool, diagnostics: diagnostics) : nil
        var spanExporters: [(name: String, exporter: any SpanExporter)] = []
        if let otlpSpans { spanExporters.append(("otlp", otlpSpans)) }
        if let file = settings?.file {
            spanExporters.append(("file", try OTLPFileExporter(path: file, resource: configuration.resource,
                                                               diagnostics: diagnostics)))
        }
        if settings?.console == true || traces.exporter == .console {
            spanExporters.append(("console", OTLPFileExporter.standardOutput(resource: configuration.resource,
                                                                             diagnostics: diagnostics)))
        }
        spanQueues = spanExporters.map {
            SpanExportQueue(name: $0.name, processor: BatchSpanProcessor(exporter: $0.exporter, config: traces.batch))
        }
        // With one exporter its queue takes the spans directly: the per-span path stays one enqueue.
        let queues: any SpanProcessor = spanQueues.count == 1 ? spanQueues[0].processor
            : FanOutSpanProcessor(spanQueues.map(\.processor))
        if case .failureBiased(let ratio) = settings?.sampling {
            sampler = AlwaysOnSampler()  // the decision is taken when a probe's root span ends
            processor = FailureBiasedSpanProcessor(ratio: ratio, next: queues, keep: ProbeTraceRule.keeps)
        } else {
            sampler = traces.sampler.makeSampler()
            processor = queues
        }
        dropWatch = QueueDropWatch(queues: spanQueues, diagnostics: diagnostics)
        let metricExporter: (any MetricExporter)? = otlpMetrics ?? (metrics.exporter == .console
            ? OTLPFileExporter.standardOutput(resource: configuration.resource, diagnostics: diagnostics) : nil)
        reader = metricExporter.map { PeriodicMetricReader(registry: registry, exporter: $0, config: metrics.reader) }
        let exporters = [otlpSpans.map { "traces to \(HTTPURL.redact($0.config.endpoint))" },
                         otlpMetrics.map { "metrics to \(HTTPURL.redact($0.config.endpoint))" }].compactMap { $0 }
            + spanExporters.filter { $0.name != "otlp" }.map { "traces to the \($0.name)" }
            + (otlpMetrics == nil && metricExporter != nil ? ["metrics to the console"] : [])
        let sampling = if case .failureBiased(let ratio) = settings?.sampling { "failure_biased \(ratio)" }
            else { "\(traces.sampler)" }
        summary = (exporters.isEmpty ? "no export" : exporters.joined(separator: ", ")) + ", sampling \(sampling)"
    }

    func start() {
        reader?.start()
        dropWatch.start()
    }

    /// Drains the span queues and the metric reader within `deadline`, every exporter at once,
    /// and logs what each queue delivered.
    func shutdown(deadline: ContinuousClock.Instant, diagnostics: DiagnosticsSink) async {
        dropWatch.stop()
        async let spans: Void = processor.shutdown(deadline: deadline)
        async let metrics: Void? = reader?.shutdown(deadline: deadline)
        _ = await (spans, metrics)
        for queue in spanQueues { diagnostics(Diagnostic(.info, queue.shutdownSummary)) }
    }
}

extension ExporterSettings {
    /// The `exporter:` section on the environment's configuration: each field it gives wins
    /// over the OTEL_* variables, per-signal ones included (docs/configuration.md, `exporter`).
    func apply(to configuration: inout TelemetryConfiguration) throws {
        if let endpoint { try configuration.setEndpoint(endpoint, source: "exporter.endpoint") }
        if let value = `protocol` { configuration.setForBothSignals(\.protocol, value) }
        if let compression { configuration.setForBothSignals(\.compression, compression) }
        if let timeout { configuration.setForBothSignals(\.timeout, timeout > .zero ? timeout : nil) }
        if !headers.isEmpty {
            configuration.setForBothSignals(\.headers, headers.sorted { $0.key < $1.key }.map { HTTPHeader($0.key, $0.value.value) })
        }
        switch sampling {
        case nil: break  // OTEL_TRACES_SAMPLER, or the default parentbased_always_on
        case .alwaysOn: configuration.traces.sampler = .parentBasedAlwaysOn
        case .ratio(let ratio): configuration.traces.sampler = .parentBasedTraceIDRatio(ratio)
        case .failureBiased: configuration.traces.sampler = .alwaysOn
        }
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
    /// Every span queue reported so far: one that a reload removed reads 0, not its last size.
    private let queueNames = Mutex<Set<String>>([])
    /// With a spool: what went into it and came back out, per signal.
    private let spooled: Counter?
    private let replayed: Counter?

    init(registry: MetricsRegistry, spool: Bool) {
        spooled = spool ? registry.counter("otlp.exporter.spool.spooled", unit: "1", description: "Items kept in the spool for later") : nil
        replayed = spool ? registry.counter("otlp.exporter.spool.replayed", unit: "1",
                                            description: "Items the collector accepted from the spool") : nil
        exported = registry.counter("otlp.exporter.exported", unit: "1", description: "Items the collector accepted")
        dropped = registry.counter("otlp.exporter.dropped", unit: "1", description: "Items dropped, by reason")
        failed = registry.counter("otlp.exporter.failed", unit: "1", description: "Export requests that failed")
        retries = registry.counter("otlp.exporter.retries", unit: "1", description: "Export retries")
        queueSize = registry.gauge("otlp.exporter.queue_size", unit: "1", description: "Spans waiting to be exported")
        spansDropped = registry.counter("probe_agent.spans.dropped", unit: "1", description: "Spans dropped because the queue was full")
        spansDropped.add(0)
    }

    /// From every setup still running: the current one and those a reload replaced that still
    /// drain. Counters are kept per setup (its `generation`), so a new exporter's counts starting
    /// from zero add to the totals instead of being taken for a reset.
    func update(_ setups: [ExportSetup]) {
        var queueSizes: [String: Int] = [:]
        for setup in setups {
            let g = setup.generation
            for queue in setup.spanQueues {
                let stats = queue.processor.stats
                queueSizes[queue.name, default: 0] += stats.queueSize
                advance(spansDropped, "\(g).spans.dropped.\(queue.name)", to: Int(stats.spansDropped),
                        attributes: [Attribute("exporter", .string(queue.name))])
            }
            for (signal, stats) in [("traces", setup.otlpSpans?.stats), ("metrics", setup.otlpMetrics?.stats)] {
                guard let stats else { continue }
                let s = [Attribute("signal", .string(signal))]
                advance(exported, "\(g).\(signal).exported", to: stats.exported, attributes: s)
                advance(failed, "\(g).\(signal).failed", to: stats.failures, attributes: s)
                advance(retries, "\(g).\(signal).retries", to: stats.retries, attributes: s)
                if let spooled, let replayed {
                    advance(spooled, "\(g).\(signal).spooled", to: stats.spooled, attributes: s)
                    advance(replayed, "\(g).\(signal).replayed", to: stats.replayed, attributes: s)
                }
                for (reason, count) in [("non_retryable", stats.droppedNonRetryable), ("retry_exhausted", stats.droppedRetryExhausted),
                                        ("too_large", stats.droppedTooLarge), ("shutdown", stats.droppedAtShutdown),
                                        ("rejected", stats.rejectedPartial)] {
                    advance(dropped, "\(g).\(signal).dropped.\(reason)", to: count, attributes: s + [Attribute("reason", .string(reason))])
                }
            }
        }
        for name in queueNames.withLock({ $0.formUnion(queueSizes.keys); return $0 }) where queueSizes[name] == nil {
            queueSizes[name] = 0
        }
        for (name, size) in queueSizes {
            queueSize.set(size, attributes: [Attribute("signal", .string("traces")), Attribute("exporter", .string(name))])
        }
    }

    /// A drained setup's counters are final: its bookkeeping goes.
    func forget(generation: Int) {
        totals.forget(prefix: "\(generation).")
    }

    private func advance(_ counter: Counter, _ key: String, to total: Int, attributes: [Attribute]) {
        totals.advance(counter, key, to: total, attributes: attributes)
    }
}
