/// Hands every span to several processors, each with its own queue and exporter, so that a slow
/// or dead exporter delays and drops nothing of the others. Flush and shutdown run on all of them
/// at once, each within the same deadline.
public struct FanOutSpanProcessor: SpanProcessor {
    public let processors: [any SpanProcessor]

    public init(_ processors: [any SpanProcessor]) { self.processors = processors }

    public func onStart(_ span: Span) {
        for processor in processors { processor.onStart(span) }
    }

    public func onEnd(_ span: SpanData) {
        for processor in processors { processor.onEnd(span) }
    }

    public func forceFlush(deadline: ContinuousClock.Instant) async {
        await withDiscardingTaskGroup { group in
            for processor in processors { group.addTask { await processor.forceFlush(deadline: deadline) } }
        }
    }

    public func shutdown(deadline: ContinuousClock.Instant) async {
        await withDiscardingTaskGroup { group in
            for processor in processors { group.addTask { await processor.shutdown(deadline: deadline) } }
        }
    }
}
