import Tracing
import XCTest
@testable import OTLPExporter

/// The tracing and metric-reader settings OTEL_* sets (moved here from Tracing, which reads no
/// environment): `TelemetryConfiguration.applyEnvironmentOverrides` is the one reader.
func fromEnvironment(_ env: [String: String]) -> (TelemetryConfiguration, warnings: [String]) {
    do {
        return try TelemetryConfiguration.fromEnvironment(env, fileExists: { _ in true })
    } catch {
        XCTFail("\(env): \(error)")
        return (TelemetryConfiguration(), [])
    }
}

extension SpanLimits {
    static func fromEnvironment(_ env: [String: String]) -> (SpanLimits, warnings: [String]) {
        let (c, w) = OTLPExporterTests.fromEnvironment(env)
        return (c.traces.limits, w)
    }
}

extension BatchConfig {
    static func fromEnvironment(_ env: [String: String]) -> (BatchConfig, warnings: [String]) {
        let (c, w) = OTLPExporterTests.fromEnvironment(env)
        return (c.traces.batch, w)
    }
}

extension SamplerConfig {
    static func fromEnvironment(_ env: [String: String]) -> (SamplerConfig, warnings: [String]) {
        let (c, w) = OTLPExporterTests.fromEnvironment(env)
        return (c.traces.sampler, w)
    }
}

extension TemporalityPreference {
    static func fromEnvironment(_ env: [String: String]) -> (TemporalityPreference, warnings: [String]) {
        let (c, w) = OTLPExporterTests.fromEnvironment(env)
        return (c.metrics.reader.temporality, w)
    }
}

extension MetricReaderConfig {
    static func fromEnvironment(_ env: [String: String]) -> (MetricReaderConfig, warnings: [String]) {
        let (c, w) = OTLPExporterTests.fromEnvironment(env)
        return (c.metrics.reader, w)
    }
}

final class SpanLimitsEnvironmentTests: XCTestCase {
    func testEnvironmentDefaults() {
        let (limits, warnings) = SpanLimits.fromEnvironment([:])
        XCTAssertEqual(limits, SpanLimits())
        XCTAssertEqual(limits.attributeCount, 128)
        XCTAssertNil(limits.attributeValueLength)
        XCTAssertEqual([limits.eventCount, limits.linkCount, limits.attributesPerEvent, limits.attributesPerLink],
                       [128, 128, 128, 128])
        XCTAssertTrue(warnings.isEmpty)
    }

    func testEnvironmentTable() {
        typealias L = SpanLimits
        let cases: [(env: [String: String], check: (L) -> Bool, warnings: Int, why: String)] = [
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "10"], { $0.attributeCount == 10 && $0.attributesPerEvent == 128 }, 0, "specific count"),
            (["OTEL_ATTRIBUTE_COUNT_LIMIT": "20"],
             { $0.attributeCount == 20 && $0.attributesPerEvent == 20 && $0.attributesPerLink == 20 && $0.eventCount == 128 },
             0, "generic count applies to span, event and link attributes"),
            (["OTEL_ATTRIBUTE_COUNT_LIMIT": "20", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "5", "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": "6",
              "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": "7"],
             { $0.attributeCount == 5 && $0.attributesPerEvent == 6 && $0.attributesPerLink == 7 }, 0, "specific beats generic"),
            (["OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "64"], { $0.attributeValueLength == 64 }, 0, "generic length"),
            (["OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "64", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "32"],
             { $0.attributeValueLength == 32 }, 0, "specific length beats generic"),
            (["OTEL_SPAN_EVENT_COUNT_LIMIT": "3", "OTEL_SPAN_LINK_COUNT_LIMIT": "4"],
             { $0.eventCount == 3 && $0.linkCount == 4 }, 0, "event and link counts"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "0"], { $0.attributeCount == 0 }, 0, "zero is valid"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": " 12 "], { $0.attributeCount == 12 }, 0, "surrounding blanks"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": ""], { $0.attributeCount == 128 }, 0, "empty = unset"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-1"], { $0.attributeCount == 128 }, 1, "negative → default"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "ten"], { $0.attributeCount == 128 }, 1, "not a number"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "1.5"], { $0.attributeCount == 128 }, 1, "not an integer"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "2147483648"], { $0.attributeCount == 128 }, 1, "over 2^31-1"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "x", "OTEL_ATTRIBUTE_COUNT_LIMIT": "9"], { $0.attributeCount == 9 }, 1,
             "invalid specific falls back to generic"),
            (["OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-5"], { $0.attributeValueLength == nil }, 1, "invalid length → no limit"),
            (["OTEL_SPAN_EVENT_COUNT_LIMIT": "x", "OTEL_SPAN_LINK_COUNT_LIMIT": "y"], { $0.eventCount == 128 && $0.linkCount == 128 },
             2, "one warning each"),
        ]
        for c in cases {
            let (limits, warnings) = SpanLimits.fromEnvironment(c.env)
            XCTAssertTrue(c.check(limits), "\(c.why): \(limits)")
            XCTAssertEqual(warnings.count, c.warnings, "\(c.why): \(warnings)")
        }
    }

    func testWarningNamesTheVariable() {
        let (_, warnings) = SpanLimits.fromEnvironment(["OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": "lots"])
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"))
    }
}

final class BatchEnvironmentTests: XCTestCase {
    func testDefaults() {
        let (config, warnings) = BatchConfig.fromEnvironment([:])
        XCTAssertEqual(config, BatchConfig())
        XCTAssertEqual(config.scheduleDelay, .milliseconds(5000))
        XCTAssertEqual(config.exportTimeout, .milliseconds(30000))
        XCTAssertEqual(config.maxQueueSize, 2048)
        XCTAssertEqual(config.maxExportBatchSize, 512)
        XCTAssertTrue(warnings.isEmpty)
    }

    func testEnvironmentTable() {
        let noLimit = Duration.milliseconds(Int(Int32.max))
        let cases: [([String: String], BatchConfig, Int)] = [
            (["OTEL_BSP_SCHEDULE_DELAY": "100"], BatchConfig(scheduleDelay: .milliseconds(100)), 0),
            (["OTEL_BSP_SCHEDULE_DELAY": "0"], BatchConfig(scheduleDelay: .zero), 0),
            (["OTEL_BSP_SCHEDULE_DELAY": "-1"], BatchConfig(), 1),
            (["OTEL_BSP_SCHEDULE_DELAY": "5s"], BatchConfig(), 1),
            (["OTEL_BSP_EXPORT_TIMEOUT": "1000"], BatchConfig(exportTimeout: .seconds(1)), 0),
            (["OTEL_BSP_EXPORT_TIMEOUT": "0"], BatchConfig(exportTimeout: noLimit), 0),
            (["OTEL_BSP_EXPORT_TIMEOUT": "-3"], BatchConfig(), 1),
            (["OTEL_BSP_MAX_QUEUE_SIZE": "4096"], BatchConfig(maxQueueSize: 4096), 0),
            (["OTEL_BSP_MAX_QUEUE_SIZE": "0"], BatchConfig(), 1),
            (["OTEL_BSP_MAX_QUEUE_SIZE": "100"], BatchConfig(maxQueueSize: 100, maxExportBatchSize: 100), 1),
            (["OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "64"], BatchConfig(maxExportBatchSize: 64), 0),
            (["OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0"], BatchConfig(), 1),
            (["OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4096"], BatchConfig(maxExportBatchSize: 2048), 1),
            (["OTEL_BSP_MAX_QUEUE_SIZE": "10", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10"],
             BatchConfig(maxQueueSize: 10, maxExportBatchSize: 10), 0),
            (["OTEL_BSP_MAX_QUEUE_SIZE": "", "OTEL_BSP_SCHEDULE_DELAY": ""], BatchConfig(), 0),
        ]
        for (env, expected, warningCount) in cases {
            let (config, warnings) = BatchConfig.fromEnvironment(env)
            XCTAssertEqual(config, expected, "\(env)")
            XCTAssertEqual(warnings.count, warningCount, "\(env): \(warnings)")
        }
    }
}

final class SamplerEnvironmentTests: XCTestCase {
    func testEnvironmentTable() {
        let cases: [([String: String], SamplerConfig, Int)] = [
            ([:], .parentBasedAlwaysOn, 0),
            (["OTEL_TRACES_SAMPLER": ""], .parentBasedAlwaysOn, 0),
            (["OTEL_TRACES_SAMPLER": "always_on"], .alwaysOn, 0),
            (["OTEL_TRACES_SAMPLER": "ALWAYS_OFF"], .alwaysOff, 0),
            (["OTEL_TRACES_SAMPLER": "traceidratio"], .traceIDRatio(1), 0),
            (["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"], .traceIDRatio(0.25), 0),
            (["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"], .traceIDRatio(0), 0),
            (["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1"], .traceIDRatio(1), 0),
            (["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"], .traceIDRatio(1), 1),
            (["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "-0.1"], .traceIDRatio(1), 1),
            (["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"], .traceIDRatio(1), 1),
            (["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "nan"], .traceIDRatio(1), 1),
            (["OTEL_TRACES_SAMPLER": "parentbased_always_on"], .parentBasedAlwaysOn, 0),
            (["OTEL_TRACES_SAMPLER": "parentbased_always_off"], .parentBasedAlwaysOff, 0),
            (["OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01"],
             .parentBasedTraceIDRatio(0.01), 0),
            (["OTEL_TRACES_SAMPLER": "Parentbased_TraceIdRatio", "OTEL_TRACES_SAMPLER_ARG": " 0.5 "],
             .parentBasedTraceIDRatio(0.5), 0),
            (["OTEL_TRACES_SAMPLER": "always_on", "OTEL_TRACES_SAMPLER_ARG": "junk"], .alwaysOn, 0),
            (["OTEL_TRACES_SAMPLER_ARG": "0.5"], .parentBasedAlwaysOn, 0),
            (["OTEL_TRACES_SAMPLER": "jaeger_remote"], .parentBasedAlwaysOn, 1),
            (["OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote"], .parentBasedAlwaysOn, 1),
            (["OTEL_TRACES_SAMPLER": "xray"], .parentBasedAlwaysOn, 1),
            (["OTEL_TRACES_SAMPLER": "sometimes"], .parentBasedAlwaysOn, 1),
        ]
        for (env, expected, warningCount) in cases {
            let (config, warnings) = SamplerConfig.fromEnvironment(env)
            XCTAssertEqual(config, expected, "\(env)")
            XCTAssertEqual(warnings.count, warningCount, "\(env): \(warnings)")
        }
    }
}

final class TemporalityEnvironmentTests: XCTestCase {
    func testEnvironmentTable() {
        let env: [(String?, TemporalityPreference, Int)] = [
            (nil, .cumulative, 0), ("", .cumulative, 0), ("cumulative", .cumulative, 0), ("DELTA", .delta, 0),
            ("LowMemory", .lowMemory, 0), ("sometimes", .cumulative, 1),
        ]
        for (value, expected, warningCount) in env {
            let vars = value.map { ["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": $0] } ?? [:]
            let (preference, warnings) = TemporalityPreference.fromEnvironment(vars)
            XCTAssertEqual(preference, expected, "\(String(describing: value))")
            XCTAssertEqual(warnings.count, warningCount)
        }
    }
}

final class MetricReaderEnvironmentTests: XCTestCase {
    func testEnvironmentTable() {
        let noLimit = Duration.milliseconds(Int(Int32.max))
        let cases: [([String: String], MetricReaderConfig, Int)] = [
            ([:], MetricReaderConfig(interval: .seconds(60), timeout: .seconds(30), temporality: .cumulative), 0),
            (["OTEL_METRIC_EXPORT_INTERVAL": "1000"], MetricReaderConfig(interval: .seconds(1)), 0),
            (["OTEL_METRIC_EXPORT_INTERVAL": "0"], MetricReaderConfig(), 1),
            (["OTEL_METRIC_EXPORT_INTERVAL": "-5"], MetricReaderConfig(), 1),
            (["OTEL_METRIC_EXPORT_TIMEOUT": "500"], MetricReaderConfig(timeout: .milliseconds(500)), 0),
            (["OTEL_METRIC_EXPORT_TIMEOUT": "0"], MetricReaderConfig(timeout: noLimit), 0),
            (["OTEL_METRIC_EXPORT_TIMEOUT": "soon"], MetricReaderConfig(), 1),
            (["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"], MetricReaderConfig(temporality: .delta), 0),
            (["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "x", "OTEL_METRIC_EXPORT_INTERVAL": "y"], MetricReaderConfig(), 2),
        ]
        for (env, expected, warningCount) in cases {
            let (config, warnings) = MetricReaderConfig.fromEnvironment(env)
            XCTAssertEqual(config, expected, "\(env)")
            XCTAssertEqual(warnings.count, warningCount, "\(env): \(warnings)")
        }
    }
}
