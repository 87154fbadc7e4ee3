import Synchronization

/// Queues finished spans and exports them in batches from one long-lived task.
///
/// `onEnd` takes a mutex for a few instructions (append to a bounded ring buffer, count) and never
/// waits; when the queue is full the span is dropped and counted. The worker exports when a full
/// batch is queued, when `scheduleDelay` passed since the last export, or on `forceFlush`; one
/// export at a time, each bounded by `exportTimeout`. An exporter that overruns the timeout is
/// cancelled and abandoned, its batch counted as failed, so a hung exporter cannot hang the
/// processor (though, ignoring cancellation, it may still run beside the next export).
public final class BatchSpanProcessor: SpanProcessor {
    public struct Stats: Sendable, Equatable {
        /// Spans waiting in the queue.
        public var queueSize = 0
        /// Spans in batches the exporter accepted.
        public var spansExported: UInt64 = 0
        /// Spans refused because the queue was full or the processor shut down.
        public var spansDropped: UInt64 = 0
        /// Spans in batches whose export failed or timed out.
        public var spansFailed: UInt64 = 0
        /// Export calls that failed or timed out.
        public var exportFailures: UInt64 = 0
        /// Of `exportFailures`, those that overran the export timeout.
        public var exportTimeouts: UInt64 = 0
        /// Spans still queued when the shutdown deadline passed.
        public var spansUnsentAtShutdown: UInt64 = 0
    }

    public let config: BatchConfig
    private let core: Core
    private let worker: Task<Void, Never>

    public init(exporter: any SpanExporter, config: BatchConfig = BatchConfig()) {
        self.config = config.sanitized
        let core = Core(exporter: exporter, config: self.config)
        self.core = core
        // Detached: the worker must not inherit the creator's task-locals (such as `Span.current`).
        self.worker = Task.detached { await core.run() }
    }

    deinit { core.abandon() }

    public var stats: Stats { core.stats }

    public func onEnd(_ span: SpanData) { core.enqueue(span) }

    /// Exports everything queued before the call; returns when done or at `deadline`.
    public func forceFlush(deadline: ContinuousClock.Instant) async {
        await core.flush(deadline: deadline)
        let exporter = core.exporter
        _ = await untilDeadline(deadline) { await exporter.forceFlush(deadline: deadline) }
    }

    /// Stops accepting spans and exports what is queued, all within `deadline`; whatever is not
    /// sent by then is counted in `Stats.spansUnsentAtShutdown`. Only the first call has an effect.
    public func shutdown(deadline: ContinuousClock.Instant) async {
        guard core.beginShutdown(deadline: deadline) else { return }
        let worker = self.worker
        if await untilDeadline(deadline, { await worker.value }) == nil {
            core.abortInFlightExport()
            await worker.value  // prompt now: the worker only discards and returns
        }
        let exporter = core.exporter
        _ = await untilDeadline(deadline) { await exporter.shutdown(deadline: deadline) }
    }
}

extension BatchSpanProcessor {
    final class Core: Sendable {
        let exporter: any SpanExporter
        private let config: BatchConfig
        private let state: Mutex<State>
        private let wake = WakeSignal()

        struct State {
            var queue: RingBuffer<SpanData>
            var stats = Stats()
            /// Spans ever queued, and of those, how many left the queue and finished exporting.
            var accepted: UInt64 = 0
            var completed: UInt64 = 0
            /// The worker drains until `completed` reaches this.
            var drainTarget: UInt64 = 0
            var flushWaiters: [(target: UInt64, shot: OneShot<Void>)] = []
            var shutdownDeadline: ContinuousClock.Instant?
            var abandoned = false
            var inFlight: OneShot<ExportResult?>?
        }

        init(exporter: any SpanExporter, config: BatchConfig) {
            self.exporter = exporter
            self.config = config
            self.state = Mutex(State(queue: RingBuffer(capacity: config.maxQueueSize)))
        }

        var stats: Stats {
            state.withLock { s in
                var stats = s.stats
                stats.queueSize = s.queue.count
                return stats
            }
        }

        @inline(__always)
        func enqueue(_ span: SpanData) {
            let batchSize = config.maxExportBatchSize
            let fullBatch = state.withLock { s -> Bool in
                guard s.shutdownDeadline == nil, s.queue.append(span) else {
                    s.stats.spansDropped += 1
                    return false
                }
                s.accepted += 1
                return s.queue.count == batchSize
            }
            if fullBatch { wake.notify() }
        }

        func flush(deadline: ContinuousClock.Instant) async {
            let shot = OneShot<Void>()
            let done = state.withLock { s -> Bool in
                guard s.completed < s.accepted else { return true }
                s.drainTarget = max(s.drainTarget, s.accepted)
                s.flushWaiters.append((s.accepted, shot))
                return false
            }
            guard !done else { return }
            wake.notify()
            await shot.value(until: deadline, timeoutValue: ())
        }

        /// False if shutdown had already begun.
        func beginShutdown(deadline: ContinuousClock.Instant) -> Bool {
            let first = state.withLock { s -> Bool in
                guard s.shutdownDeadline == nil else { return false }
                s.shutdownDeadline = deadline
                return true
            }
            if first { wake.notify() }
            return first
        }

        func abortInFlightExport() {
            state.withLock { $0.inFlight }?.fire(nil)
        }

        func abandon() {
            state.withLock { $0.abandoned = true }
            wake.notify()
        }

        private enum Step {
            case wait
            case export([SpanData], deadline: ContinuousClock.Instant, OneShot<ExportResult?>)
            case finish
        }

        func run() async {
            var nextExport = ContinuousClock.now + config.scheduleDelay
            while true {
                let now = ContinuousClock.now
                switch nextStep(now: now, timerDue: now >= nextExport) {
                case .finish:
                    return
                case .wait:
                    if now >= nextExport { nextExport = now + config.scheduleDelay }
                    await wake.wait(until: nextExport)
                case .export(let batch, let deadline, let shot):
                    await export(batch, deadline: deadline, shot: shot)
                    nextExport = ContinuousClock.now + config.scheduleDelay
                }
            }
        }

        /// Decides, under the lock, what the worker does next; takes the batch it will export.
        private func nextStep(now: ContinuousClock.Instant, timerDue: Bool) -> Step {
            let (step, waiters) = state.withLock { s -> (Step, [OneShot<Void>]) in
                if s.abandoned { return (.finish, []) }
                if let deadline = s.shutdownDeadline {
                    if s.queue.isEmpty { return (.finish, []) }
                    if now >= deadline {
                        let unsent = s.queue.popFirst(s.queue.count).count
                        s.stats.spansUnsentAtShutdown += UInt64(unsent)
                        return (.finish, s.complete(unsent))
                    }
                    return (take(&s, deadline: min(now + config.exportTimeout, deadline)), [])
                }
                if timerDue { s.drainTarget = max(s.drainTarget, s.accepted) }
                if s.queue.count >= config.maxExportBatchSize || (s.completed < s.drainTarget && !s.queue.isEmpty) {
                    return (take(&s, deadline: now + config.exportTimeout), [])
                }
                return (.wait, [])
            }
            for waiter in waiters { waiter.fire(()) }
            return step
        }

        private func take(_ s: inout State, deadline: ContinuousClock.Instant) -> Step {
            let shot = OneShot<ExportResult?>()
            s.inFlight = shot
            return .export(s.queue.popFirst(config.maxExportBatchSize), deadline: deadline, shot)
        }

        private func export(_ batch: [SpanData], deadline: ContinuousClock.Instant,
                            shot: OneShot<ExportResult?>) async {
            let exporter = self.exporter
            let work = Task { shot.fire(await exporter.export(batch)) }
            let result = await shot.value(until: deadline, timeoutValue: nil)
            if result == nil { work.cancel() }
            let waiters = state.withLock { s -> [OneShot<Void>] in
                s.inFlight = nil
                switch result {
                case .success?:
                    s.stats.spansExported += UInt64(batch.count)
                case .failure?:
                    s.stats.exportFailures += 1
                    s.stats.spansFailed += UInt64(batch.count)
                case nil:
                    s.stats.exportFailures += 1
                    s.stats.exportTimeouts += 1
                    s.stats.spansFailed += UInt64(batch.count)
                }
                return s.complete(batch.count)
            }
            for waiter in waiters { waiter.fire(()) }
        }
    }
}

extension BatchSpanProcessor.Core.State {
    /// Marks `count` more spans finished; returns the flush waiters this satisfies.
    mutating func complete(_ count: Int) -> [OneShot<Void>] {
        completed += UInt64(count)
        var ready: [OneShot<Void>] = []
        flushWaiters.removeAll { waiter in
            guard waiter.target <= completed else { return false }
            ready.append(waiter.shot)
            return true
        }
        return ready
    }
}
