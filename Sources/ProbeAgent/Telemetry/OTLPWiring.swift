import Foundation
import OTLPExporter
import Tracing

/// Builds OTLP exporters from the OTEL_* environment and command-line overrides.
enum OTLPWiring {
    /// nil when no endpoint is configured anywhere: then nothing is exported. For one-shot
    /// commands: the configuration's warnings go to `warnings`; the exporter's own diagnostics
    /// (attempts, outages, shutdown summary: the daemon's log lines) are debug level and not shown,
    /// the caller reports what was not delivered once, after shutdown (`Telemetry.exportProblem`).
    static func spanExporter(endpointOverride: String?, environment: [String: String],
                             warnings: inout [String]) throws -> (any SpanExporter)? {
        var env = environment
        if let endpointOverride {
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpointOverride
            env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = nil
        }
        let configured = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
            .contains { !(env[$0] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
        guard configured || env["OTEL_TRACES_EXPORTER"] == "console" else { return nil }
        do {
            let exporters = try OTLPExporters.fromEnvironment(env)
            warnings += exporters.config.warnings
            return exporters.spans
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
