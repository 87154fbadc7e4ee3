/// The head samplers the OpenTelemetry SDK names (`always_on`, `parentbased_traceidratio`, …).
public enum SamplerConfig: Sendable, Equatable {
    case alwaysOn
    case alwaysOff
    case traceIDRatio(Double)
    case parentBasedAlwaysOn
    case parentBasedAlwaysOff
    case parentBasedTraceIDRatio(Double)

    public static let `default` = SamplerConfig.parentBasedAlwaysOn

    public func makeSampler() -> any Sampler {
        switch self {
        case .alwaysOn: AlwaysOnSampler()
        case .alwaysOff: AlwaysOffSampler()
        case .traceIDRatio(let r): TraceIDRatioSampler(ratio: r)
        case .parentBasedAlwaysOn: ParentBasedSampler(root: AlwaysOnSampler())
        case .parentBasedAlwaysOff: ParentBasedSampler(root: AlwaysOffSampler())
        case .parentBasedTraceIDRatio(let r): ParentBasedSampler(root: TraceIDRatioSampler(ratio: r))
        }
    }
}
