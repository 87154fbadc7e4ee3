import HTTPClient

/// Remembers challenge verdicts per probed URL and challenge header for `ttl`, so a target probed
/// without credentials every interval does not have its PRM fetched every time (mcp-probing §7).
/// A challenge that differs in what the check depends on (Bearer or not, `resource_metadata`)
/// checks again at once; other parameters (`error_description`, ...) may vary freely.
public actor ChallengeVerdictCache {
    private struct Key: Hashable {
        var targetURL: String
        var bearer: Bool
        var resourceMetadata: String?
    }

    private let ttl: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private var entries: [Key: (verdict: ChallengeVerdict, until: ContinuousClock.Instant)] = [:]

    public init(ttl: Duration = .seconds(600), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.ttl = ttl
        self.now = now
    }

    public func verify(wwwAuthenticate: String?, targetURL: String, http: TracedHTTP,
                       timeout: Duration = .seconds(3), tls: TLSOptions = TLSOptions()) async -> ChallengeVerdict {
        let challenge = wwwAuthenticate.map(BearerChallenge.parse)
        let key = Key(targetURL: targetURL, bearer: challenge?.isBearer == true, resourceMetadata: challenge?.resourceMetadata)
        if let entry = entries[key], now() < entry.until { return entry.verdict }
        let verdict = await ChallengeCheck.verify(wwwAuthenticate: wwwAuthenticate, targetURL: targetURL, http: http,
                                                  timeout: timeout, tls: tls)
        let at = now()
        entries = entries.filter { $0.value.until > at }
        entries[key] = (verdict, at + ttl)
        return verdict
    }
}
