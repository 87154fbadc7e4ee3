/// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: which temporality each instrument kind
/// is exported with. Gauges have none.
public enum TemporalityPreference: String, Sendable, CaseIterable {
    case cumulative
    case delta
    case lowMemory = "lowmemory"

    /// `delta`: counters and histograms delta (up-down counters would stay cumulative);
    /// `lowmemory`: synchronous counters and histograms delta — the same for the instruments here.
    public func temporality(for kind: InstrumentKind) -> AggregationTemporality {
        switch (self, kind) {
        case (.cumulative, _), (_, .gauge): .cumulative
        case (.delta, _), (.lowMemory, _): .delta
        }
    }

    public static func fromEnvironment(_ env: [String: String]) -> (TemporalityPreference, warnings: [String]) {
        var values = EnvironmentValues(env)
        let name = values.choice("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                                 among: allCases.map(\.rawValue))
        return (name.flatMap(TemporalityPreference.init(rawValue:)) ?? .cumulative, values.warnings)
    }
}

public enum InstrumentKind: Sendable {
    case counter
    case gauge
    case histogram
}
