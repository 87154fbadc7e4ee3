import Synchronization

/// Tail sampling biased towards failure: keeps every trace whose local root `keep`s (the caller's
/// rule: what makes a trace worth keeping is not this module's business) and a `ratio` of the
/// rest, chosen deterministically by trace id like `TraceIDRatioSampler`.
///
/// Whether a probe failed is known only when its root span ends, so the finished children of a
/// local root (a span without a parent or with a remote one) wait here until it does; then all
/// spans of the trace go to `next`, or none. The wait is bounded: past `maxPendingTraces` or
/// `maxPendingSpans` the oldest pending trace is evicted (its spans dropped and counted).
/// Children that end after their root follow the root's decision while it is remembered.
/// Pair it with a head sampler that records every probe (always_on or parentbased_always_on):
/// a trace dropped at its start never reaches this processor.
public final class FailureBiasedSpanProcessor: SpanProcessor {
    public struct Stats: Sendable, Equatable {
        public var tracesKept: UInt64 = 0
        public var tracesSampledOut: UInt64 = 0
        public var spansKept: UInt64 = 0
        /// Spans of traces neither kept by the predicate nor within the ratio.
        public var spansSampledOut: UInt64 = 0
        /// Spans evicted by the pending bounds or left pending at shutdown.
        public var spansEvicted: UInt64 = 0
        public var pendingTraces = 0
        public var pendingSpans = 0
    }

    public let ratio: Double
    public let maxPendingTraces: Int
    public let maxPendingSpans: Int
    private let sampler: TraceIDRatioSampler
    private let next: any SpanProcessor
    private let keep: @Sendable (SpanData) -> Bool
    private let state: Mutex<State>

    public init(ratio: Double, next: any SpanProcessor,
                keep: @escaping @Sendable (SpanData) -> Bool,
                maxPendingTraces: Int = 1024, maxPendingSpans: Int = 16384) {
        self.sampler = TraceIDRatioSampler(ratio: ratio)
        self.ratio = sampler.ratio
        self.next = next
        self.keep = keep
        self.maxPendingTraces = max(1, maxPendingTraces)
        self.maxPendingSpans = max(1, maxPendingSpans)
        self.state = Mutex(State(decided: RecentDecisions(capacity: self.maxPendingTraces)))
    }

    public var stats: Stats {
        state.withLock { s in
            var stats = s.stats
            stats.pendingTraces = s.pending.count
            stats.pendingSpans = s.pendingSpans
            return stats
        }
    }

    /// Whether the trace whose local root ended was kept; nil once its decision is forgotten
    /// (the last `maxPendingTraces` roots are remembered) or before its root ended.
    public func decision(for traceID: TraceID) -> Bool? { state.withLock { $0.decided.decision(for: traceID) } }

    public func onStart(_ span: Span) { next.onStart(span) }

    public func onEnd(_ span: SpanData) {
        let isLocalRoot = span.parentSpanID == nil || span.parentIsRemote == true
        let forward: [SpanData] = isLocalRoot ? decide(root: span) : hold(child: span)
        for span in forward { next.onEnd(span) }
    }

    public func forceFlush(deadline: ContinuousClock.Instant) async {
        await next.forceFlush(deadline: deadline)
    }

    /// Forwards the children still waiting for their root, undecided (kept): for a processor
    /// being replaced, whose pending traces' roots end in its successor.
    public func releasePending() {
        let spans = state.withLock { s -> [SpanData] in
            let spans = s.pending.values.sorted { $0.sequence < $1.sequence }.flatMap(\.spans)
            s.stats.spansKept += UInt64(spans.count)
            s.pending.removeAll()
            s.pendingSpans = 0
            return spans
        }
        for span in spans { next.onEnd(span) }
    }

    /// Pending children of roots that never ended are dropped (counted as evicted).
    public func shutdown(deadline: ContinuousClock.Instant) async {
        state.withLock { s in
            s.stats.spansEvicted += UInt64(s.pendingSpans)
            s.pending.removeAll()
            s.pendingSpans = 0
        }
        await next.shutdown(deadline: deadline)
    }

    private func decide(root: SpanData) -> [SpanData] {
        let kept = keep(root) || sampler.isSampled(root.context.traceID)
        return state.withLock { s -> [SpanData] in
            var spans = s.pending.removeValue(forKey: root.context.traceID)?.spans ?? []
            s.pendingSpans -= spans.count
            spans.append(root)
            s.decided.record(root.context.traceID, kept: kept)
            if kept {
                s.stats.tracesKept += 1
                s.stats.spansKept += UInt64(spans.count)
                return spans
            }
            s.stats.tracesSampledOut += 1
            s.stats.spansSampledOut += UInt64(spans.count)
            return []
        }
    }

    private func hold(child: SpanData) -> [SpanData] {
        let traceID = child.context.traceID
        return state.withLock { s -> [SpanData] in
            if let kept = s.decided.decision(for: traceID) {
                if kept { s.stats.spansKept += 1; return [child] }
                s.stats.spansSampledOut += 1
                return []
            }
            if s.pending[traceID] == nil {
                if s.pending.count >= maxPendingTraces { s.evictOldest() }
                s.sequence += 1
                s.pending[traceID] = Pending(sequence: s.sequence)
            }
            s.pending[traceID]!.spans.append(child)
            s.pendingSpans += 1
            while s.pendingSpans > maxPendingSpans { s.evictOldest() }
            return []
        }
    }

    struct Pending {
        var sequence: UInt64
        var spans: [SpanData] = []
    }

    struct State {
        var pending: [TraceID: Pending] = [:]
        var pendingSpans = 0
        var sequence: UInt64 = 0
        var decided: RecentDecisions
        var stats = Stats()

        /// O(pending traces), but only when a bound is hit.
        mutating func evictOldest() {
            guard let oldest = pending.min(by: { $0.value.sequence < $1.value.sequence }) else { return }
            pending.removeValue(forKey: oldest.key)
            pendingSpans -= oldest.value.spans.count
            stats.spansEvicted += UInt64(oldest.value.spans.count)
        }
    }
}

/// The keep/drop decisions of the last `capacity` local roots, for children that end late.
struct RecentDecisions {
    private var decisions: [TraceID: Bool] = [:]
    private var order: [TraceID?]
    private var next = 0

    init(capacity: Int) { order = Array(repeating: nil, count: max(1, capacity)) }

    func decision(for traceID: TraceID) -> Bool? { decisions[traceID] }

    mutating func record(_ traceID: TraceID, kept: Bool) {
        if decisions.updateValue(kept, forKey: traceID) != nil { return }
        if let evicted = order[next] { decisions.removeValue(forKey: evicted) }
        order[next] = traceID
        next = (next + 1) % order.count
    }
}
