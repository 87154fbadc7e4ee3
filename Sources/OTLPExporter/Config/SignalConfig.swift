import HTTPClient
import Tracing

public enum OTLPSignal: String, Sendable {
    case traces, metrics

    /// The `{S}` part of signal-specific variables.
    var envPart: String { self == .traces ? "TRACES" : "METRICS" }
    /// Appended to the generic endpoint (§1.1).
    var path: String { "v1/\(rawValue)" }
}

public enum OTLPProtocol: String, Sendable {
    case httpProtobuf = "http/protobuf"
    case httpJSON = "http/json"

    public var contentType: String { self == .httpProtobuf ? "application/x-protobuf" : "application/json" }
}

public enum OTLPCompression: String, Sendable {
    case none, gzip
}

/// What `OTEL_{TRACES,METRICS}_EXPORTER` asks for.
public enum SignalExporterKind: String, Sendable {
    case otlp, console, none
}

/// Everything one signal's OTLP/HTTP exporter needs. `description` never shows header values or URL userinfo.
public struct SignalConfig: Sendable, Equatable, CustomStringConvertible {
    public var signal: OTLPSignal
    /// The final URL the exporter POSTs to.
    public var endpoint: String
    public var headers: [HTTPHeader] = []
    /// Per-export deadline; nil = no limit (timeout 0).
    public var timeout: Duration? = .seconds(10)
    public var compression: OTLPCompression = .none
    public var `protocol`: OTLPProtocol = .httpProtobuf
    public var certificateFile: String?
    public var clientCertificateFile: String?
    public var clientKeyFile: String?
    public var resource: Resource
    public var maxRequestBytes = 64 << 20
    public var maxResponseBytes = 4 << 20

    public init(signal: OTLPSignal, endpoint: String? = nil, resource: Resource = OTLPResource.make()) {
        self.signal = signal
        self.endpoint = endpoint ?? EndpointURL.default(for: signal)
        self.resource = resource
    }

    public var description: String {
        let timeoutText = timeout.map { "\($0)" } ?? "none"
        return "\(signal.rawValue): \(HTTPURL.redact(endpoint)) "
            + "protocol=\(`protocol`.rawValue) compression=\(compression.rawValue) timeout=\(timeoutText) "
            + "headers=[\(headers.map(\.name).joined(separator: ","))] tls=\(certificateFile != nil ? "ca" : "default")"
            + (clientCertificateFile != nil ? "+mtls" : "")
    }
}

/// The resource every export carries: service.name and the telemetry.sdk group (§6.4).
public enum OTLPResource {
    public static let sdkName = "probe-agent"
    public static let sdkVersion = "0.1.0"
    public static let defaultServiceName = "probe-agent"

    public static func make(serviceName: String? = nil, attributes: [Attribute] = []) -> Resource {
        var result: [Attribute] = [Attribute("service.name", .string(
            serviceName ?? attributes["service.name"]?.stringValue ?? defaultServiceName))]
        for attribute in attributes where attribute.key != "service.name" && !attribute.key.hasPrefix("telemetry.sdk.") {
            result.append(attribute)
        }
        result.append(Attribute("telemetry.sdk.name", .string(sdkName)))
        result.append(Attribute("telemetry.sdk.language", "swift"))
        result.append(Attribute("telemetry.sdk.version", .string(sdkVersion)))
        return Resource(attributes: result)
    }
}
