import Synchronization

/// A span processor that can be replaced while spans flow (a reloaded exporter configuration).
/// `onStart` and `onEnd` run the current processor's call under a lock, so once `replace`
/// returns no span reaches the old processor any more: it can be drained and shut down without
/// losing one that arrived late.
public final class SwitchableSpanProcessor: SpanProcessor {
    private let current: Mutex<any SpanProcessor>

    public init(_ processor: any SpanProcessor) { current = Mutex(processor) }

    /// Installs `processor`; returns the one it replaces, which receives nothing from now on.
    public func replace(with processor: any SpanProcessor) -> any SpanProcessor {
        var processor = processor
        current.withLock { swap(&$0, &processor) }
        return processor
    }

    public func onStart(_ span: Span) { current.withLock { $0.onStart(span) } }
    public func onEnd(_ span: SpanData) { current.withLock { $0.onEnd(span) } }
    public func decision(for traceID: TraceID) -> Bool? { current.withLock { $0 }.decision(for: traceID) }

    public func forceFlush(deadline: ContinuousClock.Instant) async {
        await current.withLock { $0 }.forceFlush(deadline: deadline)
    }

    public func shutdown(deadline: ContinuousClock.Instant) async {
        await current.withLock { $0 }.shutdown(deadline: deadline)
    }
}

/// A head sampler that can be replaced while spans start.
public final class SwitchableSampler: Sampler {
    private let current: Mutex<any Sampler>

    public init(_ sampler: any Sampler) { current = Mutex(sampler) }

    public func replace(with sampler: any Sampler) {
        current.withLock { $0 = sampler }
    }

    public func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                             attributes: [Attribute], links: [SpanLink]) -> SamplingResult {
        current.withLock {
            $0.shouldSample(parent: parent, traceID: traceID, name: name, kind: kind, attributes: attributes, links: links)
        }
    }

    public var description: String { current.withLock { $0.description } }
}
