import Foundation
import OTLPExporter
import Tracing

/// Builds the one-shot commands' span exporter from the OTEL_* environment and the command line.
enum OTLPWiring {
    /// nil when no endpoint is configured anywhere: then nothing is exported. For one-shot
    /// commands: the configuration's warnings go to `warnings`; the exporter's own diagnostics
    /// (attempts, outages, shutdown summary: the daemon's log lines) are debug level and not shown,
    /// the caller reports what was not delivered once, after shutdown (`Telemetry.exportProblem`).
    static func spanExporter(endpointOverride: String?, environment: [String: String],
                             warnings: inout [String]) throws -> (any SpanExporter)? {
        do {
            var (configuration, environmentWarnings) = try TelemetryConfiguration.fromEnvironment(environment)
            warnings += environmentWarnings
            if let endpointOverride { try configuration.setEndpoint(endpointOverride, source: "--otlp-endpoint") }
            let traces = configuration.traces
            if traces.exporter == .console { return OTLPFileExporter.standardOutput(resource: configuration.resource) }
            return traces.exportsOTLP ? OTLPHTTPSpanExporter(config: traces.otlp) : nil
        } catch let error as OTLPConfigError {
            throw ValidationErrorText("export configuration: \(error)")
        }
    }
}

/// A usage error with a plain message (exit status 2).
struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
