import HTTPClient
import Tracing

/// Everything the agent's telemetry is built from, as typed values: the defaults here, then the
/// OTEL_* environment (`applyEnvironmentOverrides`, TelemetryEnvironment.swift, the one place
/// that reads it), then the caller's own settings (the agent's `exporter:` section) set on the
/// fields directly. Nothing passes through an environment string twice.
public struct TelemetryConfiguration: Sendable, Equatable {
    public var traces = TracesConfiguration()
    public var metrics = MetricsConfiguration()

    public init() {}

    /// What every export carries (service.name, the SDK group): the same for both signals.
    public var resource: Resource {
        get { traces.otlp.resource }
        set {
            traces.otlp.resource = newValue
            metrics.otlp.resource = newValue
        }
    }

    /// One base URL for both signals (`v1/traces` and `v1/metrics` appended), replacing any
    /// endpoint set before, per-signal ones included. `source` names the setting in an error.
    public mutating func setEndpoint(_ base: String, source: String) throws {
        do {
            traces.otlp.endpoint = try EndpointURL.fromGeneric(base, signal: .traces)
            metrics.otlp.endpoint = try EndpointURL.fromGeneric(base, signal: .metrics)
        } catch let error as EndpointError {
            throw OTLPConfigError(variable: source, message: "\(HTTPURL.redact(base)) \(error.message)")
        }
        traces.endpointIsSet = true
        metrics.endpointIsSet = true
    }

    /// Sets a connection setting on both signals' exporters.
    public mutating func setForBothSignals<Value>(_ field: WritableKeyPath<SignalConfig, Value>, _ value: Value) {
        traces.otlp[keyPath: field] = value
        metrics.otlp[keyPath: field] = value
    }
}

public struct TracesConfiguration: Sendable, Equatable {
    /// OTEL_TRACES_EXPORTER; `.none` also when OTEL_SDK_DISABLED=true.
    public var exporter: SignalExporterKind = .otlp
    public var otlp = SignalConfig(signal: .traces)
    /// OTLP export needs an endpoint given somewhere: nothing goes to the default localhost:4318
    /// unasked.
    public var endpointIsSet = false
    public var batch = BatchConfig()
    public var sampler: SamplerConfig = .default
    public var limits = SpanLimits()

    public init() {}

    public var exportsOTLP: Bool { exporter == .otlp && endpointIsSet }
}

public struct MetricsConfiguration: Sendable, Equatable {
    /// OTEL_METRICS_EXPORTER; `.none` also when OTEL_SDK_DISABLED=true.
    public var exporter: SignalExporterKind = .otlp
    public var otlp = SignalConfig(signal: .metrics)
    /// As for traces: no endpoint given, no OTLP export.
    public var endpointIsSet = false
    /// Interval, timeout and temporality of the periodic reader.
    public var reader = MetricReaderConfig()

    public init() {}

    public var exportsOTLP: Bool { exporter == .otlp && endpointIsSet }
}
