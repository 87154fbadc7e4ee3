import Foundation
import HTTPClient
import Tracing

/// Exports spans as OTLP/HTTP (protobuf or JSON) to a collector.
public final class OTLPHTTPSpanExporter: SpanExporter {
    private let pipeline: OTLPExportPipeline<SpanData>

    public init(config: SignalConfig, transport: any OTLPTransport = HTTPClient.shared,
                retryPolicy: RetryPolicy = .default, clock: ExportClock = .system, spool: Spool? = nil,
                diagnostics: @escaping DiagnosticsSink = { _ in }) {
        pipeline = OTLPExportPipeline(config: config, codec: .spans(config.protocol, resource: config.resource),
                                      transport: transport, retry: retryPolicy, clock: clock, spool: spool,
                                      diagnostics: diagnostics)
    }

    /// Configured from OTEL_* variables; warnings go to `diagnostics`.
    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment,
                            diagnostics: @escaping DiagnosticsSink = { _ in }) throws {
        let env = try OTLPExporterConfig.fromEnvironment(environment)
        env.warnings.forEach { diagnostics(Diagnostic(.warning, $0)) }
        self.init(config: env.traces, diagnostics: diagnostics)
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

    public init(config: SignalConfig, transport: any OTLPTransport = HTTPClient.shared,
                retryPolicy: RetryPolicy = .default, clock: ExportClock = .system, spool: Spool? = nil,
                diagnostics: @escaping DiagnosticsSink = { _ in }) {
        pipeline = OTLPExportPipeline(config: config, codec: .metrics(config.protocol, resource: config.resource),
                                      transport: transport, retry: retryPolicy, clock: clock, spool: spool,
                                      diagnostics: diagnostics)
    }

    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment,
                            diagnostics: @escaping DiagnosticsSink = { _ in }) throws {
        let env = try OTLPExporterConfig.fromEnvironment(environment)
        env.warnings.forEach { diagnostics(Diagnostic(.warning, $0)) }
        self.init(config: env.metrics, diagnostics: diagnostics)
    }

    public var config: SignalConfig { pipeline.config }
    /// Counts are in data points.
    public var stats: ExporterStats { pipeline.stats }

    public func export(_ metrics: [MetricData]) async -> ExportResult { await pipeline.export(metrics) }
    public func forceFlush(deadline: ContinuousClock.Instant) async { await pipeline.forceFlush(deadline: deadline) }
    public func shutdown(deadline: ContinuousClock.Instant) async { await pipeline.shutdown(deadline: deadline) }
}

/// Both exporters as OTEL_* asks: OTLP/HTTP, console (OTLP/JSON lines on stdout), or none.
public struct OTLPExporters: Sendable {
    public var spans: (any SpanExporter)?
    public var metrics: (any MetricExporter)?
    public var config: OTLPExporterConfig.Result

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       transport: any OTLPTransport = HTTPClient.shared,
                                       diagnostics: @escaping DiagnosticsSink = { _ in }) throws -> OTLPExporters {
        let config = try OTLPExporterConfig.fromEnvironment(environment)
        config.warnings.forEach { diagnostics(Diagnostic(.warning, $0)) }
        let spans: (any SpanExporter)? = switch (config.traces.enabled, config.traces.exporter) {
        case (false, _), (_, .none): nil
        case (_, .console): OTLPFileExporter.standardOutput(resource: config.traces.resource, diagnostics: diagnostics)
        case (_, .otlp): OTLPHTTPSpanExporter(config: config.traces, transport: transport, diagnostics: diagnostics)
        }
        let metrics: (any MetricExporter)? = switch (config.metrics.enabled, config.metrics.exporter) {
        case (false, _), (_, .none): nil
        case (_, .console): OTLPFileExporter.standardOutput(resource: config.metrics.resource, diagnostics: diagnostics)
        case (_, .otlp): OTLPHTTPMetricExporter(config: config.metrics, transport: transport, diagnostics: diagnostics)
        }
        return OTLPExporters(spans: spans, metrics: metrics, config: config)
    }
}
