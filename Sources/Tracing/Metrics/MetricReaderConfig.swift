/// Settings of a `PeriodicMetricReader` (OTEL_METRIC_EXPORT_* and the temporality preference).
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

    /// OTEL_METRIC_EXPORT_INTERVAL (≥ 1 ms), OTEL_METRIC_EXPORT_TIMEOUT (0 = no limit),
    /// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE.
    public static func fromEnvironment(_ env: [String: String]) -> (MetricReaderConfig, warnings: [String]) {
        var values = EnvironmentValues(env)
        var config = MetricReaderConfig()
        config.interval = values.integer("OTEL_METRIC_EXPORT_INTERVAL", in: 1...Int(Int32.max))
            .map { .milliseconds($0) } ?? config.interval
        config.timeout = values.timeout("OTEL_METRIC_EXPORT_TIMEOUT") ?? config.timeout
        let (temporality, warnings) = TemporalityPreference.fromEnvironment(env)
        config.temporality = temporality
        return (config, values.warnings + warnings)
    }
}
