import HTTPClient

/// OTLP/HTTP endpoint rules (§1.1): a per-signal endpoint is used as is; the generic one is a base
/// that gets `v1/<signal>` appended. No other change to the URL.
public enum EndpointURL {
    public static let defaultBase = "http://localhost:4318"

    public static func `default`(for signal: OTLPSignal) -> String { try! fromGeneric(defaultBase, signal: signal) }

    struct Parts {
        var prefix: Substring  // scheme://authority
        var path: Substring
        var rest: Substring    // ?query#fragment
    }

    /// Splits an http(s) URL; throws a message without the URL (it may hold userinfo).
    static func split(_ url: String) throws -> Parts {
        guard let schemeEnd = url.range(of: "://") else { throw EndpointError("is not an absolute URL") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw EndpointError("has scheme '\(scheme)'; only http and https are supported")
        }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        let authority = url[schemeEnd.upperBound..<authorityEnd]
        let host = authority.split(separator: "@").last ?? ""
        guard !host.isEmpty, !host.hasPrefix(":") else { throw EndpointError("has no host") }
        let pathEnd = url[authorityEnd...].firstIndex { $0 == "?" || $0 == "#" } ?? url.endIndex
        return Parts(prefix: url[..<authorityEnd], path: url[authorityEnd..<pathEnd], rest: url[pathEnd...])
    }

    /// Per-signal endpoint: as is, with `/` only when there is no path.
    public static func fromSignalSpecific(_ url: String) throws -> String {
        let p = try split(url)
        return p.path.isEmpty ? "\(p.prefix)/\(p.rest)" : url
    }

    /// Generic endpoint: base path made to end with `/`, then `v1/<signal>`.
    public static func fromGeneric(_ url: String, signal: OTLPSignal) throws -> String {
        let p = try split(url)
        let base = p.path.hasSuffix("/") ? String(p.path) : p.path + "/"
        return "\(p.prefix)\(base)\(signal.path)\(p.rest)"
    }

    /// The URL as it may be shown (the one rule for every URL: `URLRedactor`).
    public static func redacted(_ url: String) -> String { URLRedactor.redact(url) }

    /// The userinfo part, if any (so diagnostics can scrub it).
    static func userinfo(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        guard let at = url[schemeEnd.upperBound..<authorityEnd].lastIndex(of: "@") else { return nil }
        return String(url[schemeEnd.upperBound..<at])
    }
}

struct EndpointError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
