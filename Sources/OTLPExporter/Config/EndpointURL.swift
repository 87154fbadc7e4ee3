import HTTPClient

/// OTLP/HTTP endpoint rules (§1.1): a per-signal endpoint is used as is; the generic one is a base
/// that gets `v1/<signal>` appended. No other change to the URL; reading and showing it are `HTTPURL`'s.
package enum EndpointURL {
    package static let defaultBase = "http://localhost:4318"

    package static func `default`(for signal: OTLPSignal) -> String { try! fromGeneric(defaultBase, signal: signal) }

    /// Per-signal endpoint: as is, with `/` only when there is no path.
    package static func fromSignalSpecific(_ url: String) throws -> String {
        let parsed = try parse(url)
        return parsed.path.isEmpty ? withPath("/", in: parsed) : url
    }

    /// Generic endpoint: base path made to end with `/`, then `v1/<signal>`.
    package static func fromGeneric(_ url: String, signal: OTLPSignal) throws -> String {
        let parsed = try parse(url)
        let base = parsed.path.hasSuffix("/") ? String(parsed.path) : parsed.path + "/"
        return withPath(base + signal.path, in: parsed)
    }

    /// The URL with its path replaced, everything else as written.
    private static func withPath(_ path: String, in url: HTTPURL) -> String {
        String(url.text[..<url.path.startIndex]) + path + url.text[url.path.endIndex...]
    }

    /// Throws a message without the URL (it may hold userinfo).
    private static func parse(_ url: String) throws(EndpointError) -> HTTPURL {
        do {
            return try HTTPURL(parsing: url)
        } catch {
            throw EndpointError(error.description)
        }
    }
}

struct EndpointError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
