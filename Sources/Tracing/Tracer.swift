/// Creates spans for one instrumentation scope and hands finished ones to a processor.
public final class Tracer: Sendable {
    public let scope: InstrumentationScope
    public let sampler: any Sampler
    public let processor: any SpanProcessor
    public let limits: SpanLimits

    /// `scope`: the caller's name for what it instruments.
    public init(scope: InstrumentationScope,
                sampler: any Sampler = AlwaysOnSampler(), processor: any SpanProcessor,
                limits: SpanLimits = .default) {
        self.scope = scope
        self.sampler = sampler
        self.processor = processor
        self.limits = limits
    }

    /// Starts a span. The parent defaults to the task's current span; pass `parent: .some(nil)`-style
    /// `root: true` to start a new trace.
    public func startSpan(_ name: String, kind: SpanKind = .internal, parent: SpanContext? = nil, root: Bool = false,
                          attributes: [Attribute] = [], links: [SpanLink] = [],
                          startTimeUnixNano: UInt64? = nil) -> Span {
        let parentContext = root ? nil : (parent ?? Span.current?.context)
        let validParent = parentContext?.isValid == true ? parentContext : nil
        let (traceID, spanID) = validParent.map { ($0.traceID, SpanID.random()) }
            ?? FastRandomNumberGenerator.traceAndSpanID()
        let result = sampler.shouldSample(parent: validParent, traceID: traceID, name: name, kind: kind,
                                          attributes: attributes, links: links)
        // Only defined flags propagate: reserved bits of a remote parent are not ours to repeat.
        var flags = (validParent?.traceFlags ?? []).intersection(.random)
        if result.decision == .recordAndSample { flags.insert(.sampled) }
        let context = SpanContext(traceID: traceID, spanID: spanID, traceFlags: flags,
                                  traceState: validParent?.traceState ?? "", isRemote: false)
        let span = Span(context: context, parentSpanID: validParent?.spanID,
                        parentIsRemote: validParent.map { $0.isRemote }, name: name, kind: kind,
                        startTimeUnixNano: startTimeUnixNano ?? wallClockUnixNano(),
                        attributes: result.attributes.isEmpty ? attributes : attributes + result.attributes,
                        links: links, isRecording: result.decision != .drop, tracer: self)
        if span.isRecording { processor.onStart(span) }
        return span
    }

    /// Runs `body` inside a new span that is the task's current span for its duration.
    /// A thrown error is recorded on the span and rethrown; the span always ends.
    public func withSpan<T>(_ name: String, kind: SpanKind = .internal, parent: SpanContext? = nil,
                            root: Bool = false, attributes: [Attribute] = [], links: [SpanLink] = [],
                            isolation: isolated (any Actor)? = #isolation,
                            _ body: (Span) async throws -> T) async rethrows -> T {
        let span = startSpan(name, kind: kind, parent: parent, root: root, attributes: attributes, links: links)
        defer { span.end() }
        return try await Span.$current.withValue(span) {
            do {
                return try await body(span)
            } catch {
                span.recordError(error)
                throw error
            }
        }
    }
}
