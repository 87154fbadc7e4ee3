import HTTPClient
import Synchronization
import Tracing

/// Host and port of a URL, for `server.address` / `server.port` (scheme default when absent).
public struct URLAuthority: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int

    public init?(_ url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        scheme = url[..<schemeEnd.lowerBound].lowercased()
        var authority = url[schemeEnd.upperBound...]
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            authority = authority[..<end]
        }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let defaultPort = scheme == "https" ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let afterBracket = authority[authority.index(after: close)...]
            port = afterBracket.hasPrefix(":") ? Int(afterBracket.dropFirst()) ?? -1 : defaultPort
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = Int(authority[authority.index(after: colon)...]) ?? -1
        } else {
            host = String(authority)
            port = defaultPort
        }
        guard !host.isEmpty, (1...65535).contains(port), scheme == "http" || scheme == "https" else { return nil }
    }

    /// `scheme://host:port`, the key for per-origin facts.
    public var origin: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(h):\(port)"
    }
}

/// The span attributes of a URL (`url.full` redacted, `server.address`, `server.port`), parsed
/// once per distinct URL: every probe of a target asks again, and parsing is not free.
enum URLSpanAttributes {
    private static let cache = Mutex<[String: [Attribute]]>([:])
    private static let capacity = 50_000

    static func of(_ url: String) -> [Attribute] {
        if let cached = cache.withLock({ $0[url] }) { return cached }
        var attributes = [Attribute("url.full", .string(URLRedactor.redact(url)))]
        if let authority = URLAuthority(url) {
            attributes.append(Attribute("server.address", .string(authority.host)))
            attributes.append(Attribute("server.port", .int(authority.port)))
        }
        cache.withLock {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[url] = attributes
        }
        return attributes
    }
}
