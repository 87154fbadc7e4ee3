package struct AlwaysOffSampler: Sampler {
    package init() {}
    package func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                             attributes: [Attribute], links: [SpanLink]) -> SamplingResult {
        SamplingResult(.drop)
    }
    package var description: String { "AlwaysOffSampler" }
}

/// Samples a fixed fraction of traces, deterministically on the trace id: the rightmost 56 bits
/// (the W3C Level 2 random part) are compared with a threshold, so every participant decides
/// alike and a higher ratio samples a superset of what a lower one samples.
package struct TraceIDRatioSampler: Sampler {
    package let ratio: Double
    private let threshold: UInt64

    /// `ratio` is clamped to [0, 1]; NaN counts as 0.
    package init(ratio: Double) {
        self.ratio = ratio.isNaN ? 0 : min(max(ratio, 0), 1)
        self.threshold = Self.threshold(ratio: self.ratio)
    }

    /// True when a trace with this id falls within the ratio.
    package func isSampled(_ traceID: TraceID) -> Bool {
        traceID.low & Self.randomMask >= threshold
    }

    package func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                             attributes: [Attribute], links: [SpanLink]) -> SamplingResult {
        SamplingResult(isSampled(traceID) ? .recordAndSample : .drop)
    }

    package var description: String { "TraceIdRatioBased{\(ratio)}" }

    private static let randomMask: UInt64 = (1 << 56) - 1

    /// T = (1 - ratio) · 2^56: sample when R ≥ T. Exact at both ends: 1 → 0 (all), 0 → 2^56 (none).
    private static func threshold(ratio: Double) -> UInt64 {
        UInt64(((1 - ratio) * 0x1p56).rounded(.up))
    }
}

/// Follows the parent's sampled flag; only a root consults `root`.
package struct ParentBasedSampler: Sampler {
    package let root: any Sampler
    package let remoteParentSampled: any Sampler
    package let remoteParentNotSampled: any Sampler
    package let localParentSampled: any Sampler
    package let localParentNotSampled: any Sampler

    package init(root: any Sampler,
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

    package func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
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

    package var description: String {
        "ParentBased{root=\(root.description),remoteParentSampled=\(remoteParentSampled.description),"
            + "remoteParentNotSampled=\(remoteParentNotSampled.description),"
            + "localParentSampled=\(localParentSampled.description),"
            + "localParentNotSampled=\(localParentNotSampled.description)}"
    }
}
