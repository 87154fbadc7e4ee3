/// The sampler named by OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
public enum SamplerConfig: Sendable, Equatable {
    case alwaysOn
    case alwaysOff
    case traceIDRatio(Double)
    case parentBasedAlwaysOn
    case parentBasedAlwaysOff
    case parentBasedTraceIDRatio(Double)

    public static let `default` = SamplerConfig.parentBasedAlwaysOn

    /// Unknown or unsupported samplers (`jaeger_remote`, `xray`, …) warn and give the default;
    /// a ratio argument outside [0, 1] or unparsable warns and gives 1.0. The argument of a
    /// sampler that takes none is ignored.
    public static func fromEnvironment(_ env: [String: String]) -> (SamplerConfig, warnings: [String]) {
        var values = EnvironmentValues(env)
        let names = ["always_on", "always_off", "traceidratio",
                     "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"]
        guard let name = values.choice("OTEL_TRACES_SAMPLER", among: names) else { return (.default, values.warnings) }
        func ratio() -> Double {
            guard let text = values.raw("OTEL_TRACES_SAMPLER_ARG") else { return 1 }
            guard let r = Double(text), r >= 0, r <= 1 else {
                values.warnings.append("OTEL_TRACES_SAMPLER_ARG=\(text) is not a ratio in [0, 1]; using 1.0")
                return 1
            }
            return r
        }
        let config: SamplerConfig
        switch name {
        case "always_on": config = .alwaysOn
        case "always_off": config = .alwaysOff
        case "traceidratio": config = .traceIDRatio(ratio())
        case "parentbased_always_off": config = .parentBasedAlwaysOff
        case "parentbased_traceidratio": config = .parentBasedTraceIDRatio(ratio())
        default: config = .parentBasedAlwaysOn
        }
        return (config, values.warnings)
    }

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
