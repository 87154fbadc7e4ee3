import HTTPClient
import Synchronization
import Tracing

/// The span attributes of a URL (`url.full` redacted, `server.address`, `server.port`), parsed
/// once per distinct URL: every probe of a target asks again, and parsing is not free.
enum URLSpanAttributes {
    private static let cache = Mutex<[String: [Attribute]]>([:])
    private static let capacity = 50_000

    static func of(_ url: String) -> [Attribute] {
        if let cached = cache.withLock({ $0[url] }) { return cached }
        var attributes = [Attribute("url.full", .string(HTTPURL.redact(url)))]
        if let parsed = HTTPURL(url) {
            attributes.append(Attribute("server.address", .string(parsed.host)))
            attributes.append(Attribute("server.port", .int(parsed.port)))
        }
        cache.withLock {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[url] = attributes
        }
        return attributes
    }
}
