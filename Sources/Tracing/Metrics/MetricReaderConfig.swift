/// Settings of a `PeriodicMetricReader`.
public struct MetricReaderConfig: Sendable, Equatable {
    /// Between the starts of two exports.
    public var interval: Duration
    /// Longest one export may take.
    public var timeout: Duration
    public var temporality: TemporalityPreference

    public init(interval: Duration = .milliseconds(60000), timeout: Duration = .milliseconds(30000),
                temporality: TemporalityPreference = .cumulative) {
        self.interval = interval
        self.timeout = timeout
        self.temporality = temporality
    }
}
