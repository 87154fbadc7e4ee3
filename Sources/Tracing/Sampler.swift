public struct SamplingResult: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        case drop
        case recordOnly
        case recordAndSample
    }

    public var decision: Decision
    public var attributes: [Attribute]

    public init(_ decision: Decision, attributes: [Attribute] = []) {
        self.decision = decision
        self.attributes = attributes
    }
}

/// Decides at span start whether a span is recorded and sampled.
public protocol Sampler: Sendable {
    func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                      attributes: [Attribute], links: [SpanLink]) -> SamplingResult
    var description: String { get }
}

public struct AlwaysOnSampler: Sampler {
    public init() {}
    public func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                             attributes: [Attribute], links: [SpanLink]) -> SamplingResult {
        SamplingResult(.recordAndSample)
    }
    public var description: String { "AlwaysOnSampler" }
}
