import Foundation
import OTLPExporter
import ProbeLogic
import Tracing
import XCTest
@testable import ProbeAgent

/// The precedence table of docs/configuration.md (`exporter`): each setting's default, what its
/// OTEL_* variable makes of it, and what the `exporter:` section makes of it over the variable.
final class TelemetryPrecedenceTests: XCTestCase {
    struct Row {
        let setting: String
        /// Sets the setting (and only it) to a non-default value.
        let environment: [String: String]
        /// nil: the `exporter:` section has no field for it.
        let yaml: ((inout ExporterSettings) -> Void)?
        let read: (TelemetryConfiguration) -> String
        let byDefault: String
        let byEnvironment: String
        let byYAML: String?
    }

    static func resolve(_ environment: [String: String], _ settings: ExporterSettings?) throws -> TelemetryConfiguration {
        var (configuration, warnings) = try TelemetryConfiguration.fromEnvironment(environment, fileExists: { _ in true })
        XCTAssertEqual(warnings, [], "\(environment)")
        try settings?.apply(to: &configuration)
        return configuration
    }

    var rows: [Row] { [
        Row(setting: "endpoint (traces)", environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"],
            yaml: { $0.endpoint = "http://yaml:4318" }, read: { $0.traces.otlp.endpoint },
            byDefault: "http://localhost:4318/v1/traces", byEnvironment: "http://env:4318/v1/traces",
            byYAML: "http://yaml:4318/v1/traces"),
        Row(setting: "endpoint (metrics)", environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"],
            yaml: { $0.endpoint = "http://yaml:4318" }, read: { $0.metrics.otlp.endpoint },
            byDefault: "http://localhost:4318/v1/metrics", byEnvironment: "http://env:4318/v1/metrics",
            byYAML: "http://yaml:4318/v1/metrics"),
        Row(setting: "traces endpoint", environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://env:4318/t"],
            yaml: { $0.endpoint = "http://yaml:4318" }, read: { "\($0.traces.otlp.endpoint) \($0.metrics.exportsOTLP)" },
            byDefault: "http://localhost:4318/v1/traces false", byEnvironment: "http://env:4318/t false",
            byYAML: "http://yaml:4318/v1/traces true"),
        Row(setting: "metrics endpoint", environment: ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://env:4318/m"],
            yaml: { $0.endpoint = "http://yaml:4318" }, read: { "\($0.metrics.otlp.endpoint) \($0.traces.exportsOTLP)" },
            byDefault: "http://localhost:4318/v1/metrics false", byEnvironment: "http://env:4318/m false",
            byYAML: "http://yaml:4318/v1/metrics true"),
        Row(setting: "export on", environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"],
            yaml: { $0.endpoint = "http://yaml:4318" }, read: { "\($0.traces.exportsOTLP) \($0.metrics.exportsOTLP)" },
            byDefault: "false false", byEnvironment: "true true", byYAML: "true true"),
        Row(setting: "headers", environment: ["OTEL_EXPORTER_OTLP_HEADERS": "x-env=1"],
            yaml: { $0.headers = ["x-yaml": Secret("2")] },
            read: { "\($0.traces.otlp.headers.map(\.name)) \($0.metrics.otlp.headers.map(\.name))" },
            byDefault: "[] []", byEnvironment: #"["x-env"] ["x-env"]"#, byYAML: #"["x-yaml"] ["x-yaml"]"#),
        Row(setting: "traces headers", environment: ["OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-env=1"],
            yaml: { $0.headers = ["x-yaml": Secret("2")] }, read: { "\($0.traces.otlp.headers.map(\.value))" },
            byDefault: "[]", byEnvironment: #"["1"]"#, byYAML: #"["2"]"#),
        Row(setting: "protocol", environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"],
            yaml: { $0.protocol = .httpProtobuf }, read: { "\($0.traces.otlp.protocol) \($0.metrics.otlp.protocol)" },
            byDefault: "httpProtobuf httpProtobuf", byEnvironment: "httpJSON httpJSON", byYAML: "httpProtobuf httpProtobuf"),
        Row(setting: "traces protocol", environment: ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"],
            yaml: { $0.protocol = .httpProtobuf }, read: { "\($0.traces.otlp.protocol)" },
            byDefault: "httpProtobuf", byEnvironment: "httpJSON", byYAML: "httpProtobuf"),
        Row(setting: "compression", environment: ["OTEL_EXPORTER_OTLP_METRICS_COMPRESSION": "gzip"],
            yaml: { $0.compression = OTLPCompression.none }, read: { "\($0.metrics.otlp.compression)" },
            byDefault: "none", byEnvironment: "gzip", byYAML: "none"),
        Row(setting: "timeout", environment: ["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2000"],
            yaml: { $0.timeout = .seconds(3) }, read: { "\($0.traces.otlp.timeout!)" },
            byDefault: "10.0 seconds", byEnvironment: "2.0 seconds", byYAML: "3.0 seconds"),
        Row(setting: "sampler", environment: ["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"],
            yaml: { $0.sampling = .ratio(0.5) }, read: { "\($0.traces.sampler)" },
            byDefault: "parentBasedAlwaysOn", byEnvironment: "traceIDRatio(0.25)", byYAML: "parentBasedTraceIDRatio(0.5)"),
        Row(setting: "sampler (always_on)", environment: ["OTEL_TRACES_SAMPLER": "always_off"],
            yaml: { $0.sampling = .alwaysOn }, read: { "\($0.traces.sampler)" },
            byDefault: "parentBasedAlwaysOn", byEnvironment: "alwaysOff", byYAML: "parentBasedAlwaysOn"),
        Row(setting: "sampler (failure_biased)", environment: ["OTEL_TRACES_SAMPLER": "always_off"],
            yaml: { $0.sampling = .failureBiased(ratio: 0.1) }, read: { "\($0.traces.sampler)" },
            byDefault: "parentBasedAlwaysOn", byEnvironment: "alwaysOff", byYAML: "alwaysOn"),
        Row(setting: "batch schedule delay", environment: ["OTEL_BSP_SCHEDULE_DELAY": "100"], yaml: nil,
            read: { "\($0.traces.batch.scheduleDelay)" }, byDefault: "5.0 seconds", byEnvironment: "0.1 seconds", byYAML: nil),
        Row(setting: "batch export timeout", environment: ["OTEL_BSP_EXPORT_TIMEOUT": "1000"], yaml: nil,
            read: { "\($0.traces.batch.exportTimeout)" }, byDefault: "30.0 seconds", byEnvironment: "1.0 seconds", byYAML: nil),
        Row(setting: "batch queue size", environment: ["OTEL_BSP_MAX_QUEUE_SIZE": "4096"], yaml: nil,
            read: { "\($0.traces.batch.maxQueueSize)" }, byDefault: "2048", byEnvironment: "4096", byYAML: nil),
        Row(setting: "batch size", environment: ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64"], yaml: nil,
            read: { "\($0.traces.batch.maxExportBatchSize)" }, byDefault: "512", byEnvironment: "64", byYAML: nil),
        Row(setting: "span attribute count", environment: ["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "10"], yaml: nil,
            read: { "\($0.traces.limits.attributeCount)" }, byDefault: "128", byEnvironment: "10", byYAML: nil),
        Row(setting: "attribute value length", environment: ["OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "64"], yaml: nil,
            read: { "\($0.traces.limits.attributeValueLength.map(String.init) ?? "none")" },
            byDefault: "none", byEnvironment: "64", byYAML: nil),
        Row(setting: "span event count", environment: ["OTEL_SPAN_EVENT_COUNT_LIMIT": "3"], yaml: nil,
            read: { "\($0.traces.limits.eventCount)" }, byDefault: "128", byEnvironment: "3", byYAML: nil),
        Row(setting: "metric interval", environment: ["OTEL_METRIC_EXPORT_INTERVAL": "300"], yaml: nil,
            read: { "\($0.metrics.reader.interval)" }, byDefault: "60.0 seconds", byEnvironment: "0.3 seconds", byYAML: nil),
        Row(setting: "metric timeout", environment: ["OTEL_METRIC_EXPORT_TIMEOUT": "500"], yaml: nil,
            read: { "\($0.metrics.reader.timeout)" }, byDefault: "30.0 seconds", byEnvironment: "0.5 seconds", byYAML: nil),
        Row(setting: "metric temporality", environment: ["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"], yaml: nil,
            read: { "\($0.metrics.reader.temporality)" }, byDefault: "cumulative", byEnvironment: "delta", byYAML: nil),
        Row(setting: "service name", environment: ["OTEL_SERVICE_NAME": "env-name"], yaml: nil,
            read: { "\($0.resource.attributes["service.name"]?.stringValue ?? "")" },
            byDefault: "probe-agent", byEnvironment: "env-name", byYAML: nil),
    ] }

    func testEverySettingByDefaultByEnvironmentAndByTheExporterSection() throws {
        for row in rows {
            XCTAssertEqual(row.read(try Self.resolve([:], nil)), row.byDefault, "\(row.setting): default")
            XCTAssertEqual(row.read(try Self.resolve(row.environment, nil)), row.byEnvironment, "\(row.setting): environment")
            // An `exporter:` section that says nothing about the setting leaves the variable's value.
            XCTAssertEqual(row.read(try Self.resolve(row.environment, ExporterSettings(file: "/tmp/spans.jsonl"))),
                           row.byEnvironment, "\(row.setting): environment under a section without it")
            guard let yaml = row.yaml, let byYAML = row.byYAML else { continue }
            var settings = ExporterSettings()
            yaml(&settings)
            XCTAssertEqual(row.read(try Self.resolve(row.environment, settings)), byYAML, "\(row.setting): exporter section")
            XCTAssertEqual(row.read(try Self.resolve([:], settings)), byYAML, "\(row.setting): exporter section alone")
        }
    }

    func telemetry(_ settings: ExporterSettings?, _ env: [String: String]) throws -> DaemonTelemetry {
        try DaemonTelemetry(exporter: settings, environment: env, diagnostics: { _ in })
    }

    /// The daemon's tracer samples as the table says: OTEL_TRACES_SAMPLER without `sampling:`,
    /// `sampling:` over it (on main an explicit always_on lost to the variable).
    func testTheDaemonsSamplerFollowsThePrecedence() async throws {
        let env = try telemetry(ExporterSettings(endpoint: "http://127.0.0.1:9"), ["OTEL_TRACES_SAMPLER": "always_off"])
        XCTAssertFalse(env.tracer.startSpan("x", root: true).isRecording, "the variable applies without sampling:")
        await env.shutdown(deadline: .now)
        var settings = ExporterSettings(endpoint: "http://127.0.0.1:9")
        settings.sampling = .alwaysOn
        let yaml = try telemetry(settings, ["OTEL_TRACES_SAMPLER": "always_off"])
        XCTAssertTrue(yaml.tracer.startSpan("x", root: true).isRecording, "sampling: wins")
        await yaml.shutdown(deadline: .now)
    }

    /// The exporters the daemon builds carry the YAML values over per-signal variables (on main
    /// the per-signal variables won: the YAML went through OTEL_EXPORTER_OTLP_* strings).
    func testTheDaemonsExporterTakesTheSectionOverPerSignalVariables() async throws {
        var settings = ExporterSettings(endpoint: "http://127.0.0.1:9", protocol: .httpJSON, compression: .gzip, timeout: .seconds(3))
        settings.headers = ["x-yaml": Secret("1")]
        let t = try telemetry(settings, ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
                                         "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "none",
                                         "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "1000",
                                         "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-env=1"])
        let config = try XCTUnwrap(t.otlpSpans?.config)
        XCTAssertEqual(config.protocol, .httpJSON)
        XCTAssertEqual(config.compression, .gzip)
        XCTAssertEqual(config.timeout, .seconds(3))
        XCTAssertEqual(config.headers.map(\.name), ["x-yaml"])
        await t.shutdown(deadline: .now)
    }

    /// A traces endpoint alone exports traces only (on main metrics went to localhost:4318 too).
    func testATracesEndpointAloneExportsNoMetrics() async throws {
        let t = try telemetry(nil, ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/v1/traces"])
        XCTAssertNotNil(t.otlpSpans)
        XCTAssertNil(t.otlpMetrics, "metrics went to \(t.otlpMetrics?.config.endpoint ?? "")")
        await t.shutdown(deadline: .now)
    }
}
