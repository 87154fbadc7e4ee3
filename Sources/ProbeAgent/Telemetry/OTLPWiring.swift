import Foundation
import OTLPExporter
import Tracing

/// Exporter diagnostics (already scrubbed of secrets) for one-shot commands: problems and news
/// only, not the per-attempt and summary lines a daemon's log keeps.
enum Diagnostics {
    static let standardError: DiagnosticsSink = { diagnostic in
        guard diagnostic.level >= .notice else { return }
        FileHandle.standardError.write(Data("probe-agent: \(diagnostic.message)\n".utf8))
    }
}

/// Builds OTLP exporters from the OTEL_* environment and command-line overrides.
enum OTLPWiring {
    /// nil when no endpoint is configured anywhere: then nothing is exported.
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
            let exporters = try OTLPExporters.fromEnvironment(env, diagnostics: Diagnostics.standardError)
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
