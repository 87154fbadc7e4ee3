public enum ExportResult: Sendable, Equatable {
    case success
    case failure
}

/// Receives finished spans. `onEnd` runs on the caller's task and must never block.
public protocol SpanProcessor: Sendable {
    func onStart(_ span: Span)
    func onEnd(_ span: SpanData)
    func forceFlush(deadline: ContinuousClock.Instant) async
    func shutdown(deadline: ContinuousClock.Instant) async
    /// Whether this processor passed on the trace whose local root has ended (a tail sampler's
    /// decision); nil when it does not decide (it passes on what it gets) or no longer remembers.
    func decision(for traceID: TraceID) -> Bool?
}

extension SpanProcessor {
    public func onStart(_ span: Span) {}
    public func decision(for traceID: TraceID) -> Bool? { nil }
}

/// Sends batches of spans somewhere (OTLP, a file, the console). Owns retries; must return in bounded time.
public protocol SpanExporter: Sendable {
    func export(_ batch: [SpanData]) async -> ExportResult
    func forceFlush(deadline: ContinuousClock.Instant) async
    func shutdown(deadline: ContinuousClock.Instant) async
}

extension SpanExporter {
    public func forceFlush(deadline: ContinuousClock.Instant) async {}
    public func shutdown(deadline: ContinuousClock.Instant) async {}
}

/// Sends metric snapshots somewhere.
public protocol MetricExporter: Sendable {
    func export(_ metrics: [MetricData]) async -> ExportResult
    func shutdown(deadline: ContinuousClock.Instant) async
}

extension MetricExporter {
    public func shutdown(deadline: ContinuousClock.Instant) async {}
}
