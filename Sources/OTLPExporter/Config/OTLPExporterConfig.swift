import Foundation
import HTTPClient
import Tracing

/// A configuration error. The message names the variable; it never quotes a header value.
public struct OTLPConfigError: Error, Equatable, CustomStringConvertible {
    public let variable: String
    public let message: String
    public var description: String { "\(variable): \(message)" }
}

/// The one place that reads OTEL_* variables for export (§6).
public enum OTLPExporterConfig {
    public typealias Result = (traces: SignalConfig, metrics: SignalConfig, warnings: [String])

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       fileExists: @escaping (String) -> Bool = { FileManager.default.isReadableFile(atPath: $0) })
        throws -> Result {
        var reader = EnvReader(env: env, fileExists: fileExists)
        if reader.value("OTEL_CONFIG_FILE") != nil {
            reader.warn("OTEL_CONFIG_FILE is not supported; using OTEL_* variables")
        }
        let disabled = reader.bool("OTEL_SDK_DISABLED")
        let resource = reader.resource()
        let tracesConfig = try reader.signal(OTLPSignal.traces, resource: resource, sdkDisabled: disabled)
        let metricsConfig = try reader.signal(OTLPSignal.metrics, resource: resource, sdkDisabled: disabled)
        var seen = Set<String>()  // generic variables are read once per signal
        return (tracesConfig, metricsConfig, reader.warnings.filter { seen.insert($0).inserted })
    }
}

struct EnvReader {
    let env: [String: String]
    let fileExists: (String) -> Bool
    var warnings: [String] = []

    mutating func warn(_ message: String) { warnings.append(message) }

    /// Empty = unset (§6.1).
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

    mutating func signal(_ signal: OTLPSignal, resource: Resource, sdkDisabled: Bool) throws -> SignalConfig {
        var config = SignalConfig(signal: signal, resource: resource)
        config.exporter = exporterKind(signal)
        config.enabled = !sdkDisabled && config.exporter != .none

        if let (name, url, specific) = option("ENDPOINT", signal) {
            do {
                config.endpoint = specific ? try EndpointURL.fromSignalSpecific(url)
                                           : try EndpointURL.fromGeneric(url, signal: signal)
            } catch let error as EndpointError {
                throw OTLPConfigError(variable: name, message: "\(HTTPURL.redact(url)) \(error.message)")
            }
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
        config.certificateFile = try file("CERTIFICATE", signal)
        config.clientCertificateFile = try file("CLIENT_CERTIFICATE", signal)
        config.clientKeyFile = try file("CLIENT_KEY", signal)
        if (config.clientCertificateFile == nil) != (config.clientKeyFile == nil) {
            let missing = config.clientKeyFile == nil ? "CLIENT_KEY" : "CLIENT_CERTIFICATE"
            throw OTLPConfigError(variable: "OTEL_EXPORTER_OTLP_[\(signal.envPart)_]\(missing)",
                                  message: "mTLS needs both a client certificate and a client key; \(missing) is missing")
        }
        if signal == .metrics, let text = value("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE") {
            if let t = MetricsTemporalityPreference(rawValue: text.lowercased()) { config.temporalityPreference = t }
            else { warn("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: unknown value '\(text)'; using cumulative") }
        }
        return config
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
}
