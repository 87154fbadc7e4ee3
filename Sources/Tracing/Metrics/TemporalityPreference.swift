/// Which temporality each instrument kind
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
}

public enum InstrumentKind: Sendable {
    case counter
    case gauge
    case histogram
}
