import Foundation
import HTTPClient
import OTLPExporter
import ProbeLogic
import XCTest
@testable import ProbeAgent

/// Run on main before the rework: the YAML `exporter:` section loses to per-signal OTEL_* variables.
final class ExporterPrecedenceDefectTests: XCTestCase {
    func telemetry(_ settings: ExporterSettings?, _ env: [String: String]) throws -> DaemonTelemetry {
        try DaemonTelemetry(exporter: settings, environment: env, diagnostics: { _ in })
    }

    func testEnvSamplerAppliesWithoutYAMLSampling() async throws {
        let t = try telemetry(ExporterSettings(endpoint: "http://127.0.0.1:9"), ["OTEL_TRACES_SAMPLER": "always_off"])
        XCTAssertFalse(t.tracer.startSpan("x", root: true).isRecording)
        await t.shutdown(deadline: .now)
    }

    func testYAMLSamplingWinsOverEnvSampler() async throws {
        var settings = ExporterSettings(endpoint: "http://127.0.0.1:9")
        settings.sampling = .alwaysOn
        let t = try telemetry(settings, ["OTEL_TRACES_SAMPLER": "always_off"])
        XCTAssertTrue(t.tracer.startSpan("x", root: true).isRecording)
        await t.shutdown(deadline: .now)
    }

    func testYAMLWinsOverPerSignalEnv() async throws {
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

    func testATracesEndpointAloneExportsNoMetricsToTheDefault() async throws {
        let t = try telemetry(nil, ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/v1/traces"])
        XCTAssertNotNil(t.otlpSpans)
        XCTAssertNil(t.otlpMetrics, "metrics went to \(t.otlpMetrics?.config.endpoint ?? "")")
        await t.shutdown(deadline: .now)
    }
}
