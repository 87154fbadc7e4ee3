import Foundation
import HTTPClient
import Tracing

/// Exports spans as OTLP/HTTP (protobuf or JSON) to a collector.
public final class OTLPHTTPSpanExporter: SpanExporter {
    private let pipeline: OTLPExportPipeline<SpanData>

    public convenience init(config: SignalConfig, spool: Spool? = nil, diagnostics: @escaping DiagnosticsSink = { _ in }) {
        self.init(config: config, transport: HTTPClient.shared, spool: spool, diagnostics: diagnostics)
    }

    /// Tests and the benchmark choose the transport, the retry policy and the clock.
    package init(config: SignalConfig, transport: any OTLPTransport,
                 retryPolicy: RetryPolicy = .default, clock: ExportClock = .system, spool: Spool? = nil,
                 diagnostics: @escaping DiagnosticsSink = { _ in }) {
        pipeline = OTLPExportPipeline(config: config, codec: .spans(config.protocol, resource: config.resource),
                                      transport: transport, retry: retryPolicy, clock: clock, spool: spool,
                                      diagnostics: diagnostics)
    }


    public var config: SignalConfig { pipeline.config }
    public var stats: ExporterStats { pipeline.stats }

    public func export(_ batch: [SpanData]) async -> ExportResult { await pipeline.export(batch) }
    public func forceFlush(deadline: ContinuousClock.Instant) async { await pipeline.forceFlush(deadline: deadline) }
    public func shutdown(deadline: ContinuousClock.Instant) async { await pipeline.shutdown(deadline: deadline) }
}

/// Exports metric snapshots as OTLP/HTTP (protobuf or JSON) to a collector.
public final class OTLPHTTPMetricExporter: MetricExporter {
    private let pipeline: OTLPExportPipeline<MetricData>

    public convenience init(config: SignalConfig, spool: Spool? = nil, diagnostics: @escaping DiagnosticsSink = { _ in }) {
        self.init(config: config, transport: HTTPClient.shared, spool: spool, diagnostics: diagnostics)
    }

    /// Tests and the benchmark choose the transport, the retry policy and the clock.
    package init(config: SignalConfig, transport: any OTLPTransport,
                 retryPolicy: RetryPolicy = .default, clock: ExportClock = .system, spool: Spool? = nil,
                 diagnostics: @escaping DiagnosticsSink = { _ in }) {
        pipeline = OTLPExportPipeline(config: config, codec: .metrics(config.protocol, resource: config.resource),
                                      transport: transport, retry: retryPolicy, clock: clock, spool: spool,
                                      diagnostics: diagnostics)
    }


    public var config: SignalConfig { pipeline.config }
    /// Counts are in data points.
    public var stats: ExporterStats { pipeline.stats }

    public func export(_ metrics: [MetricData]) async -> ExportResult { await pipeline.export(metrics) }
    public func forceFlush(deadline: ContinuousClock.Instant) async { await pipeline.forceFlush(deadline: deadline) }
    public func shutdown(deadline: ContinuousClock.Instant) async { await pipeline.shutdown(deadline: deadline) }
}

/// Both exporters as a configuration asks: OTLP/HTTP, console (OTLP/JSON lines on stdout), or none.
package struct OTLPExporters: Sendable {
    package var spans: (any SpanExporter)?
    package var metrics: (any MetricExporter)?

    /// OTLP/HTTP goes to the configured endpoint, the default one included (the agent asks for
    /// an endpoint to be set, `exportsOTLP`; tests and the benchmark need not).
    package init(_ configuration: TelemetryConfiguration, transport: any OTLPTransport = HTTPClient.shared,
                 diagnostics: @escaping DiagnosticsSink = { _ in }) {
        let resource = configuration.resource
        spans = switch configuration.traces.exporter {
        case .none: nil
        case .console: OTLPFileExporter.standardOutput(resource: resource, diagnostics: diagnostics)
        case .otlp: OTLPHTTPSpanExporter(config: configuration.traces.otlp, transport: transport, diagnostics: diagnostics)
        }
        metrics = switch configuration.metrics.exporter {
        case .none: nil
        case .console: OTLPFileExporter.standardOutput(resource: resource, diagnostics: diagnostics)
        case .otlp: OTLPHTTPMetricExporter(config: configuration.metrics.otlp, transport: transport, diagnostics: diagnostics)
        }
    }
}
