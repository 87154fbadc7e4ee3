import Synchronization

/// Collects a registry every `interval` and hands the snapshot to an exporter. Exports run one
/// at a time, each bounded by `timeout` (an overrunning exporter is cancelled and abandoned).
/// Recorders never wait for it: collection only takes each instrument's mutex briefly.
public final class PeriodicMetricReader: Sendable {
    public struct Stats: Sendable, Equatable {
        /// Exports the exporter accepted.
        public var exports: UInt64 = 0
        /// Exports that failed or timed out.
        public var exportFailures: UInt64 = 0
        /// Of `exportFailures`, those that overran the timeout.
        public var exportTimeouts: UInt64 = 0
        /// Metric streams in the last snapshot.
        public var lastMetricCount = 0
    }

    public let registry: MetricsRegistry
    public let interval: Duration
    public let timeout: Duration
    public let temporality: TemporalityPreference
    private let exporter: any MetricExporter
    private let state = Mutex(State())

    private struct State {
        var loop: Task<Void, Never>?
        /// The last export queued; the next one waits for it.
        var tail: Task<Void, Never>?
        var isShutdown = false
        var stats = Stats()
    }

    public init(registry: MetricsRegistry, exporter: any MetricExporter, interval: Duration = .seconds(60),
                timeout: Duration = .seconds(30), temporality: TemporalityPreference = .cumulative) {
        self.registry = registry
        self.exporter = exporter
        self.interval = max(interval, .milliseconds(1))
        self.timeout = timeout > .zero ? timeout : .milliseconds(Int(Int32.max))
        self.temporality = temporality
    }

    public convenience init(registry: MetricsRegistry, exporter: any MetricExporter, config: MetricReaderConfig) {
        self.init(registry: registry, exporter: exporter, interval: config.interval, timeout: config.timeout,
                  temporality: config.temporality)
    }

    public var stats: Stats { state.withLock { $0.stats } }

    /// Starts periodic export; the first export comes one interval from now. Idempotent.
    public func start() {
        state.withLock { s in
            guard s.loop == nil, !s.isShutdown else { return }
            s.loop = Task.detached { [weak self, interval] in
                var next = ContinuousClock.now + interval
                while !Task.isCancelled {
                    try? await Task.sleep(until: next, clock: .continuous)
                    guard !Task.isCancelled, let self else { return }
                    await self.queueExport().value
                    next += interval
                    if next < .now { next = .now + interval }  // fell behind: skip, do not burst
                }
            }
        }
    }

    /// Collects and exports now, after any export in progress; returns when done or at `deadline`.
    public func forceFlush(deadline: ContinuousClock.Instant) async {
        let export = queueExport()
        _ = await untilDeadline(deadline) { await export.value }
    }

    /// Stops the timer, exports a last snapshot and shuts the exporter down, within `deadline`.
    public func shutdown(deadline: ContinuousClock.Instant) async {
        let loop = state.withLock { s -> Task<Void, Never>?? in
            guard !s.isShutdown else { return nil }
            s.isShutdown = true
            return .some(s.loop)
        }
        guard let loop else { return }
        loop?.cancel()
        await forceFlush(deadline: deadline)
        let exporter = self.exporter
        _ = await untilDeadline(deadline) { await exporter.shutdown(deadline: deadline) }
    }

    private func queueExport() -> Task<Void, Never> {
        state.withLock { s in
            let previous = s.tail
            let task = Task.detached { [self] in
                await previous?.value
                await collectAndExport()
            }
            s.tail = task
            return task
        }
    }

    private func collectAndExport() async {
        let metrics = registry.collect(temporality: temporality)
        state.withLock { $0.stats.lastMetricCount = metrics.count }
        guard !metrics.isEmpty else { return }
        let exporter = self.exporter
        let result = await untilDeadline(.now + timeout) { await exporter.export(metrics) }
        state.withLock { s in
            switch result {
            case .success?: s.stats.exports += 1
            case .failure?: s.stats.exportFailures += 1
            case nil: s.stats.exportFailures += 1; s.stats.exportTimeouts += 1
            }
        }
    }
}
