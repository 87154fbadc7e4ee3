import Foundation
import HTTPClient
import Tracing

/// A configuration error. The message names the variable or setting; it never quotes a header value.
public struct OTLPConfigError: Error, Equatable, CustomStringConvertible {
    public let variable: String
    public let message: String
    public var description: String { "\(variable): \(message)" }

    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }
}

/// The one place that reads OTEL_* variables (otlp.md §6, the SDK environment variables).
extension TelemetryConfiguration {
    /// The defaults with the environment applied; `warnings` name each variable that was ignored.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       fileExists: @escaping (String) -> Bool = { FileManager.default.isReadableFile(atPath: $0) })
        throws -> (TelemetryConfiguration, warnings: [String]) {
        var configuration = TelemetryConfiguration()
        let warnings = try configuration.applyEnvironmentOverrides(env, fileExists: fileExists)
        return (configuration, warnings)
    }

    /// Every setting an OTEL_* variable names replaces the value here. A value that does not
    /// parse or is out of range is a warning and leaves the setting as it was; a setting that
    /// cannot work (gRPC, a missing certificate file) throws.
    public mutating func applyEnvironmentOverrides(_ env: [String: String],
                                                   fileExists: @escaping (String) -> Bool) throws -> [String] {
        var reader = EnvReader(env: env, fileExists: fileExists)
        if reader.value("OTEL_CONFIG_FILE") != nil {
            reader.warn("OTEL_CONFIG_FILE is not supported; using OTEL_* variables")
        }
        let disabled = reader.bool("OTEL_SDK_DISABLED")
        resource = reader.resource()
        traces.exporter = disabled ? .none : reader.exporterKind(.traces)
        metrics.exporter = disabled ? .none : reader.exporterKind(.metrics)
        traces.endpointIsSet = try reader.signal(.traces, into: &traces.otlp) || traces.endpointIsSet
        metrics.endpointIsSet = try reader.signal(.metrics, into: &metrics.otlp) || metrics.endpointIsSet
        reader.batch(into: &traces.batch)
        if let sampler = reader.sampler() { traces.sampler = sampler }
        reader.limits(into: &traces.limits)
        reader.metricReader(into: &metrics.reader)
        var seen = Set<String>()  // generic variables are read once per signal
        return reader.warnings.filter { seen.insert($0).inserted }
    }
}

/// Reads variables by the SDK's rules (§6.1): empty = unset; surrounding blanks are ignored.
struct EnvReader {
    let env: [String: String]
    let fileExists: (String) -> Bool
    var warnings: [String] = []

    mutating func warn(_ message: String) { warnings.append(message) }

    /// The trimmed value, or nil when unset or empty.
    func value(_ name: String) -> String? {
        guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        return v
    }

    /// The signal-specific variable if set, else the generic one; returns which one was used.
    func option(_ option: String, _ signal: OTLPSignal) -> (name: String, value: String, specific: Bool)? {
        let specific = "OTEL_EXPORTER_OTLP_\(signal.envPart)_\(option)"
        if let v = value(specific) { return (specific, v, true) }
        let generic = "OTEL_EXPORTER_OTLP_\(option)"
        if let v = value(generic) { return (generic, v, false) }
        return nil
    }

    mutating func bool(_ name: String) -> Bool {
        guard let v = value(name)?.lowercased() else { return false }
        if v != "true" && v != "false" { warn("\(name): expected true or false; treating as false") }
        return v == "true"
    }

    /// An integer in `range` (the spec's integers are 0 … 2^31-1).
    mutating func integer(_ name: String, in range: ClosedRange<Int> = 0...Int(Int32.max)) -> Int? {
        guard let text = value(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            warn("\(name)=\(text) is not an integer in \(range.lowerBound)...\(range.upperBound); using the default")
            return nil
        }
        return value
    }

    /// A millisecond timeout where 0 means no limit (the spec allows 2^31-1 ms to stand in).
    mutating func timeout(_ name: String) -> Duration? {
        integer(name).map { $0 == 0 ? .milliseconds(Int(Int32.max)) : .milliseconds($0) }
    }

    /// A case-insensitive choice, lowercased; unknown values are reported and ignored.
    mutating func choice(_ name: String, among allowed: [String]) -> String? {
        guard let text = value(name) else { return nil }
        let value = text.lowercased()
        guard allowed.contains(value) else {
            warn("\(name)=\(text) is not one of \(allowed.joined(separator: ", ")); using the default")
            return nil
        }
        return value
    }

    // MARK: exporters

    /// One signal's OTEL_EXPORTER_OTLP_[{S}_]* variables; returns whether an endpoint was given.
    mutating func signal(_ signal: OTLPSignal, into config: inout SignalConfig) throws -> Bool {
        var endpointGiven = false
        if let (name, url, specific) = option("ENDPOINT", signal) {
            do {
                config.endpoint = specific ? try EndpointURL.fromSignalSpecific(url)
                                           : try EndpointURL.fromGeneric(url, signal: signal)
            } catch let error as EndpointError {
                throw OTLPConfigError(variable: name, message: "\(HTTPURL.redact(url)) \(error.message)")
            }
            endpointGiven = true
            if !specific, let path = HTTPURL(url)?.path,
               path.hasSuffix("/v1/traces") || path.hasSuffix("/v1/metrics") || path.hasSuffix("/v1/traces/") {
                warn("\(name) is a base URL and already ends in \(path); exporting to \(HTTPURL.redact(config.endpoint)). "
                     + "Set OTEL_EXPORTER_OTLP_\(signal.envPart)_ENDPOINT for a full URL")
            }
        }
        if let (name, text, _) = option("HEADERS", signal) {
            config.headers = headers(text, variable: name)
        }
        if let (name, text, _) = option("TIMEOUT", signal) {
            if let ms = Int(text), ms >= 0, ms <= Int(Int32.max) {
                config.timeout = ms == 0 ? nil : .milliseconds(ms)
            } else {
                warn("\(name): '\(text)' is not a timeout in milliseconds (0…2147483647); using 10000")
            }
        }
        if let (name, text, _) = option("COMPRESSION", signal) {
            if let c = OTLPCompression(rawValue: text.lowercased()) { config.compression = c }
            else { warn("\(name): unknown compression '\(text)' (none, gzip); using none") }
        }
        if let (name, text, _) = option("PROTOCOL", signal) {
            switch text.lowercased() {
            case "http/protobuf": config.protocol = .httpProtobuf
            case "http/json": config.protocol = .httpJSON
            case "grpc":
                throw OTLPConfigError(variable: name, message: "protocol grpc is not supported by probe-agent; use http/protobuf or http/json")
            default: warn("\(name): unknown protocol '\(text)' (http/protobuf, http/json); using http/protobuf")
            }
        }
        config.certificateFile = try file("CERTIFICATE", signal) ?? config.certificateFile
        config.clientCertificateFile = try file("CLIENT_CERTIFICATE", signal) ?? config.clientCertificateFile
        config.clientKeyFile = try file("CLIENT_KEY", signal) ?? config.clientKeyFile
        if (config.clientCertificateFile == nil) != (config.clientKeyFile == nil) {
            let missing = config.clientKeyFile == nil ? "CLIENT_KEY" : "CLIENT_CERTIFICATE"
            throw OTLPConfigError(variable: "OTEL_EXPORTER_OTLP_[\(signal.envPart)_]\(missing)",
                                  message: "mTLS needs both a client certificate and a client key; \(missing) is missing")
        }
        return endpointGiven
    }

    mutating func exporterKind(_ signal: OTLPSignal) -> SignalExporterKind {
        let name = "OTEL_\(signal.envPart)_EXPORTER"
        guard let text = value(name) else { return .otlp }
        let first = text.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if text.contains(",") { warn("\(name): one exporter per signal is supported; using '\(first)'") }
        if let kind = SignalExporterKind(rawValue: first) { return kind }
        if first == "otlp/stdout" { return .console }
        warn("\(name): unsupported exporter '\(first)' (otlp, console, none); using otlp")
        return .otlp
    }

    mutating func file(_ optionName: String, _ signal: OTLPSignal) throws -> String? {
        guard let (name, path, _) = option(optionName, signal) else { return nil }
        guard fileExists(path) else { throw OTLPConfigError(variable: name, message: "file \(path) does not exist or is not readable") }
        return path
    }

    /// `k=v,k2=v2`; entries are trimmed and percent-decoded. Bad entries are skipped with a
    /// warning that names the entry's position, never its value.
    mutating func headers(_ text: String, variable: String) -> [HTTPHeader] {
        var result: [HTTPHeader] = []
        for (index, entry) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                warn("\(variable): entry \(index + 1) has no '='; skipped")
                continue
            }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            let rawValue = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard let name = key.removingPercentEncoding, !name.isEmpty, name.allSatisfy(Self.isTokenChar) else {
                warn("\(variable): entry \(index + 1) has an invalid header name; skipped")
                continue
            }
            guard let decoded = rawValue.removingPercentEncoding else {
                warn("\(variable): the value of header '\(name)' is not valid percent-encoding; skipped")
                continue
            }
            guard HTTPHeader.isFieldValue(decoded) else {
                warn("\(variable): the value of header '\(name)' has a line break or other control character; skipped")
                continue
            }
            result.append(HTTPHeader(name, decoded))
        }
        return result
    }

    static func isTokenChar(_ c: Character) -> Bool {
        guard c.isASCII, let a = c.asciiValue, a > 32, a < 127 else { return false }
        return !"()<>@,;:\\\"/[]?={}".contains(c)
    }

    /// OTEL_RESOURCE_ATTRIBUTES (a decoding error discards them all) and OTEL_SERVICE_NAME (wins).
    mutating func resource() -> Resource {
        var attributes: [Attribute] = []
        if let text = value("OTEL_RESOURCE_ATTRIBUTES") {
            for entry in text.split(separator: ",") {
                let trimmed = entry.trimmingCharacters(in: .whitespaces)
                guard let eq = trimmed.firstIndex(of: "="),
                      let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces).removingPercentEncoding, !key.isEmpty,
                      let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces).removingPercentEncoding
                else {
                    warn("OTEL_RESOURCE_ATTRIBUTES: cannot decode '\(trimmed)'; all its attributes are ignored")
                    attributes = []
                    break
                }
                attributes.set(key, .string(value))
            }
        }
        return OTLPResource.make(serviceName: value("OTEL_SERVICE_NAME"), attributes: attributes)
    }

    // MARK: tracing and metrics

    /// OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT (0 = no limit), OTEL_BSP_MAX_QUEUE_SIZE,
    /// OTEL_BSP_MAX_EXPORT_BATCH_SIZE. A batch size above the queue size warns and is lowered to it.
    mutating func batch(into config: inout BatchConfig) {
        config.scheduleDelay = integer("OTEL_BSP_SCHEDULE_DELAY").map { .milliseconds($0) } ?? config.scheduleDelay
        config.exportTimeout = timeout("OTEL_BSP_EXPORT_TIMEOUT") ?? config.exportTimeout
        config.maxQueueSize = integer("OTEL_BSP_MAX_QUEUE_SIZE", in: 1...Int(Int32.max)) ?? config.maxQueueSize
        config.maxExportBatchSize = integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", in: 1...Int(Int32.max))
            ?? config.maxExportBatchSize
        if config.maxExportBatchSize > config.maxQueueSize {
            warn("OTEL_BSP_MAX_EXPORT_BATCH_SIZE \(config.maxExportBatchSize) exceeds "
                + "OTEL_BSP_MAX_QUEUE_SIZE \(config.maxQueueSize); using \(config.maxQueueSize)")
            config.maxExportBatchSize = config.maxQueueSize
        }
    }

    /// OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG; nil when unset. Unknown or unsupported
    /// samplers (`jaeger_remote`, `xray`, …) warn and give the default; a ratio argument outside
    /// [0, 1] or unparsable warns and gives 1.0. The argument of a sampler that takes none is ignored.
    mutating func sampler() -> SamplerConfig? {
        let names = ["always_on", "always_off", "traceidratio",
                     "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"]
        guard value("OTEL_TRACES_SAMPLER") != nil else { return nil }
        guard let name = choice("OTEL_TRACES_SAMPLER", among: names) else { return .default }
        func ratio() -> Double {
            guard let text = value("OTEL_TRACES_SAMPLER_ARG") else { return 1 }
            guard let r = Double(text), r >= 0, r <= 1 else {
                warn("OTEL_TRACES_SAMPLER_ARG=\(text) is not a ratio in [0, 1]; using 1.0")
                return 1
            }
            return r
        }
        switch name {
        case "always_on": return .alwaysOn
        case "always_off": return .alwaysOff
        case "traceidratio": return .traceIDRatio(ratio())
        case "parentbased_always_off": return .parentBasedAlwaysOff
        case "parentbased_traceidratio": return .parentBasedTraceIDRatio(ratio())
        default: return .parentBasedAlwaysOn
        }
    }

    /// OTEL_SPAN_* / OTEL_EVENT_* / OTEL_LINK_* and the generic OTEL_ATTRIBUTE_* limits. A
    /// model-specific variable beats the generic one; the generic attribute count applies to
    /// span, event and link attributes alike.
    mutating func limits(into limits: inout SpanLimits) {
        let genericCount = integer("OTEL_ATTRIBUTE_COUNT_LIMIT")
        let genericLength = integer("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")
        limits.attributeCount = integer("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") ?? genericCount ?? limits.attributeCount
        limits.attributeValueLength = integer("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") ?? genericLength
            ?? limits.attributeValueLength
        limits.eventCount = integer("OTEL_SPAN_EVENT_COUNT_LIMIT") ?? limits.eventCount
        limits.linkCount = integer("OTEL_SPAN_LINK_COUNT_LIMIT") ?? limits.linkCount
        limits.attributesPerEvent = integer("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT") ?? genericCount ?? limits.attributesPerEvent
        limits.attributesPerLink = integer("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT") ?? genericCount ?? limits.attributesPerLink
    }

    /// OTEL_METRIC_EXPORT_INTERVAL (≥ 1 ms), OTEL_METRIC_EXPORT_TIMEOUT (0 = no limit),
    /// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE.
    mutating func metricReader(into config: inout MetricReaderConfig) {
        config.interval = integer("OTEL_METRIC_EXPORT_INTERVAL", in: 1...Int(Int32.max)).map { .milliseconds($0) }
            ?? config.interval
        config.timeout = timeout("OTEL_METRIC_EXPORT_TIMEOUT") ?? config.timeout
        if let name = choice("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                             among: TemporalityPreference.allCases.map(\.rawValue)) {
            config.temporality = TemporalityPreference(rawValue: name) ?? config.temporality
        }
    }
}
