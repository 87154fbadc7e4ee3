public struct AlwaysOffSampler: Sampler {
    public init() {}
    public func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                             attributes: [Attribute], links: [SpanLink]) -> SamplingResult {
        SamplingResult(.drop)
    }
    public var description: String { "AlwaysOffSampler" }
}

/// Samples a fixed fraction of traces, deterministically on the trace id: the rightmost 56 bits
/// (the W3C Level 2 random part) are compared with a threshold, so every participant decides
/// alike and a higher ratio samples a superset of what a lower one samples.
public struct TraceIDRatioSampler: Sampler {
    public let ratio: Double
    private let threshold: UInt64

    /// `ratio` is clamped to [0, 1]; NaN counts as 0.
    public init(ratio: Double) {
        self.ratio = ratio.isNaN ? 0 : min(max(ratio, 0), 1)
        self.threshold = Self.threshold(ratio: self.ratio)
    }

    /// True when a trace with this id falls within the ratio.
    public func isSampled(_ traceID: TraceID) -> Bool {
        traceID.low & Self.randomMask >= threshold
    }

    public func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                             attributes: [Attribute], links: [SpanLink]) -> SamplingResult {
        SamplingResult(isSampled(traceID) ? .recordAndSample : .drop)
    }

    public var description: String { "TraceIdRatioBased{\(ratio)}" }

    private static let randomMask: UInt64 = (1 << 56) - 1

    /// T = (1 - ratio) · 2^56: sample when R ≥ T. Exact at both ends: 1 → 0 (all), 0 → 2^56 (none).
    private static func threshold(ratio: Double) -> UInt64 {
        UInt64(((1 - ratio) * 0x1p56).rounded(.up))
    }
}

/// Follows the parent's sampled flag; only a root consults `root`.
public struct ParentBasedSampler: Sampler {
    public let root: any Sampler
    public let remoteParentSampled: any Sampler
    public let remoteParentNotSampled: any Sampler
    public let localParentSampled: any Sampler
    public let localParentNotSampled: any Sampler

    public init(root: any Sampler,
                remoteParentSampled: any Sampler = AlwaysOnSampler(),
                remoteParentNotSampled: any Sampler = AlwaysOffSampler(),
                localParentSampled: any Sampler = AlwaysOnSampler(),
                localParentNotSampled: any Sampler = AlwaysOffSampler()) {
        self.root = root
        self.remoteParentSampled = remoteParentSampled
        self.remoteParentNotSampled = remoteParentNotSampled
        self.localParentSampled = localParentSampled
        self.localParentNotSampled = localParentNotSampled
    }

    public func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                             attributes: [Attribute], links: [SpanLink]) -> SamplingResult {
        delegate(for: parent).shouldSample(parent: parent, traceID: traceID, name: name, kind: kind,
                                           attributes: attributes, links: links)
    }

    func delegate(for parent: SpanContext?) -> any Sampler {
        guard let parent, parent.isValid else { return root }
        switch (parent.isRemote, parent.isSampled) {
        case (true, true): return remoteParentSampled
        case (true, false): return remoteParentNotSampled
        case (false, true): return localParentSampled
        case (false, false): return localParentNotSampled
        }
    }

    public var description: String {
        "ParentBased{root=\(root.description),remoteParentSampled=\(remoteParentSampled.description),"
            + "remoteParentNotSampled=\(remoteParentNotSampled.description),"
            + "localParentSampled=\(localParentSampled.description),"
            + "localParentNotSampled=\(localParentNotSampled.description)}"
    }
}
