import Foundation
import HTTPClient
import Tracing

/// `auth.challenge`: whether a 401/403 tells a client how to authorize (MCP authorization, RFC 9728).
public enum ChallengeStatus: String, Sendable, Equatable {
    /// Bearer challenge and a Protected Resource Metadata document that names this resource and its AS.
    case valid
    /// No Bearer challenge at all.
    case missing
    /// A Bearer challenge whose PRM is unreachable, wrong or incomplete.
    case invalid
}

public struct ChallengeVerdict: Sendable, Equatable {
    public var challenge: ChallengeStatus
    /// Short reason, free of secrets (URLs redacted).
    public var detail: String
    /// The PRM document's authorization servers, when valid.
    public var authorizationServers: [String]

    public init(_ challenge: ChallengeStatus, _ detail: String, authorizationServers: [String] = []) {
        self.challenge = challenge
        self.detail = detail
        self.authorizationServers = authorizationServers
    }

    /// For the probe span: `auth.challenge`, `auth.challenge.detail`, `auth.authorization_servers`.
    public var attributes: [Attribute] {
        var result = [Attribute("auth.challenge", .string(challenge.rawValue)),
                      Attribute("auth.challenge.detail", .string(detail))]
        if !authorizationServers.isEmpty {
            result.append(Attribute("auth.authorization_servers", .array(authorizationServers.map { .string($0) })))
        }
        return result
    }
}

/// The OAuth-aware check of a 401/403 (mcp-probing §5.5): Bearer challenge, then the PRM document
/// from `resource_metadata`, else the path-inserted and then the root well-known URI.
/// Same-origin only, no redirects, no credentials sent. The pure steps live here;
/// `ChallengeVerdictCache.verify` runs them with its remembered look-ups.
public enum ChallengeCheck {
    public static let wellKnownPath = "/.well-known/oauth-protected-resource"

    /// One metadata look-up: the document (a 200) or why there is none, and how long it may be reused
    /// (nil: the cache's default; `.zero`: this probe only).
    struct Lookup: Sendable {
        enum Result: Sendable, Equatable {
            case document([UInt8])
            case miss(String)
        }
        var result: Result
        var keep: Duration?
    }

    /// GETs one metadata URL.
    static func lookUp(_ url: String, http: TracedHTTP, timeout: Duration, tls: TLSOptions) async -> Lookup {
        var request = HTTPRequest(method: "GET", url: url, timeout: timeout)
        request.headers.add("Accept", "application/json")
        request.maxResponseBodyBytes = 64 * 1024
        request.tls = tls
        let exchange = await http.send(request)
        let location = HTTPURL.redact(HTTPURL(url)?.pathAndQuery ?? "/")
        if let error = exchange.error { return Lookup(result: .miss("PRM \(error.kind.rawValue) at \(location)")) }
        let status = exchange.status ?? 0
        guard status == 200 else {
            return Lookup(result: .miss((300..<400).contains(status) ? "PRM redirect \(status) (not followed) at \(location)"
                                                                     : "PRM \(status) at \(location)"))
        }
        return Lookup(result: .document(exchange.body), keep: freshness(cacheControl: exchange.headers["cache-control"]))
    }

    /// How long a document may be reused by its `Cache-Control` (RFC 9111 §5.2.2): `no-store` or
    /// `no-cache` → `.zero`, `max-age=N` → N seconds, otherwise nil (no say).
    static func freshness(cacheControl: String?) -> Duration? {
        guard let cacheControl else { return nil }
        var maxAge: Duration?
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1)
            let name = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            if name == "no-store" || name == "no-cache" { return .zero }
            if name == "max-age", parts.count == 2 {
                let value = parts[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if let seconds = Int64(value), seconds >= 0 { maxAge = .seconds(seconds) }
            }
        }
        return maxAge
    }

    enum MetadataPlan: Equatable {
        case fetch([String])
        case verdict(ChallengeVerdict)
    }

    /// The PRM URLs to try, or the verdict when there is nothing to fetch.
    static func metadataURLs(wwwAuthenticate: String?, targetURL: String) -> MetadataPlan {
        guard let header = wwwAuthenticate, !header.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .verdict(ChallengeVerdict(.missing, "no WWW-Authenticate header"))
        }
        let challenge = BearerChallenge.parse(header)
        guard challenge.isBearer else {
            let scheme = header.prefix(while: { $0 != " " && $0 != "," }).prefix(20)
            return .verdict(ChallengeVerdict(.missing, "no Bearer challenge (scheme \(TokenEndpoint.errorCode(String(scheme))))"))
        }
        guard let target = HTTPURL(targetURL) else {
            return .verdict(ChallengeVerdict(.invalid, "probed URL is not an absolute http(s) URL"))
        }
        if let metadata = challenge.resourceMetadata {
            guard let metadataURL = HTTPURL(metadata) else {
                return .verdict(ChallengeVerdict(.invalid, "resource_metadata is not an absolute http(s) URL"))
            }
            guard metadataURL.origin == target.origin else {
                return .verdict(ChallengeVerdict(.invalid, "resource_metadata on another origin (\(metadataURL.origin)), not fetched"))
            }
            return .fetch([metadata])
        }
        let root = "\(target.scheme)://\(target.hostAndPort)\(wellKnownPath)"
        // RFC 9728 §3.1: insert the well-known path between host and path; a bare "/" path adds nothing.
        let inserted = target.pathAndQuery == "/" ? root : root + target.pathAndQuery
        return .fetch(inserted == root ? [root] : [inserted, root])
    }

    /// Judges a PRM document fetched with 200.
    static func evaluate(prm body: [UInt8], targetURL: String) -> ChallengeVerdict {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return ChallengeVerdict(.invalid, "PRM is not a JSON object")
        }
        guard let resource = object["resource"] as? String else {
            return ChallengeVerdict(.invalid, "PRM has no resource")
        }
        if resource != targetURL {
            let hint = trailingSlashOnly(resource, targetURL) ? " (trailing slash)" : ""
            return ChallengeVerdict(.invalid, "PRM resource mismatch\(hint): \(HTTPURL.redact(resource)) != \(HTTPURL.redact(targetURL))")
        }
        guard let servers = object["authorization_servers"] as? [Any], !servers.isEmpty else {
            return ChallengeVerdict(.invalid, "PRM has no authorization_servers")
        }
        let urls = servers.compactMap { $0 as? String }
        guard urls.count == servers.count, urls.allSatisfy({ HTTPURL($0) != nil }) else {
            return ChallengeVerdict(.invalid, "PRM authorization_servers has an entry that is not an absolute http(s) URL")
        }
        let redacted = urls.map(HTTPURL.redact)
        return ChallengeVerdict(.valid, "PRM ok: authorization_servers \(redacted.joined(separator: ", "))",
                                authorizationServers: redacted)
    }

    static func trailingSlashOnly(_ a: String, _ b: String) -> Bool {
        a != b && (a == b + "/" || b == a + "/")
    }
}
