import HTTPClient

/// Runs `ChallengeCheck` with the protected-resource metadata look-ups it made before, so a target
/// probed without credentials every interval does not have its metadata fetched every time
/// (mcp-probing §7). Look-ups are remembered by their URL, which is on the target's origin, so
/// every target of an origin shares them (the root well-known document, or its absence, is fetched
/// once per origin); the verdict is judged per target from them, since the document must name the
/// target's own URL. A look-up is kept as its `Cache-Control` says (`max-age`; `no-store` or
/// `no-cache`: this probe only), a found document without one and a missing one for `keep`.
/// A target whose challenge changes in what the check depends on (Bearer or not,
/// `resource_metadata`) is checked again at once; other parameters (`error_description`, ...) may vary freely.
public actor ChallengeVerdictCache {
    /// What of a challenge the check depends on.
    private struct ChallengeShape: Equatable {
        var bearer: Bool
        var resourceMetadata: String?
    }

    private let keep: Duration
    private let longest: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private var lookups: [String: (lookup: ChallengeCheck.Lookup.Result, until: ContinuousClock.Instant)] = [:]
    /// Per target URL: the challenge it answered last, so a change re-checks at once.
    private var lastChallenge: [String: (shape: ChallengeShape, until: ContinuousClock.Instant)] = [:]

    /// `keep`: how long a look-up without `Cache-Control` is reused; `longest`: the bound on any `max-age`.
    public init(keep: Duration = .seconds(3600), longest: Duration = .seconds(86_400),
                now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.keep = keep
        self.longest = longest
        self.now = now
    }

    /// `wwwAuthenticate`: every `WWW-Authenticate` value of the response, joined with ", ".
    public func verify(wwwAuthenticate: String?, targetURL: String, http: TracedHTTP,
                       timeout: Duration = .seconds(3), tls: TLSOptions = TLSOptions()) async -> ChallengeVerdict {
        let challenge = wwwAuthenticate.map(BearerChallenge.parse)
        let shape = ChallengeShape(bearer: challenge?.isBearer == true, resourceMetadata: challenge?.resourceMetadata)
        let start = now()
        let changed = lastChallenge[targetURL].map { $0.until > start && $0.shape != shape } ?? false
        forgetExpired(at: start)
        lastChallenge[targetURL] = (shape, start + keep)

        let urls: [String]
        switch ChallengeCheck.metadataURLs(wwwAuthenticate: wwwAuthenticate, targetURL: targetURL) {
        case .verdict(let verdict): return verdict
        case .fetch(let candidates): urls = candidates
        }
        var misses: [String] = []
        for url in urls {
            let result: ChallengeCheck.Lookup.Result
            if !changed, let entry = lookups[url], now() < entry.until {
                result = entry.lookup
            } else {
                let lookup = await ChallengeCheck.lookUp(url, http: http, timeout: timeout, tls: tls)
                result = lookup.result
                let kept = min(lookup.keep ?? keep, longest)
                if kept > .zero { lookups[url] = (result, now() + kept) } else { lookups[url] = nil }
            }
            switch result {
            case .document(let body): return ChallengeCheck.evaluate(prm: body, targetURL: targetURL)
            case .miss(let why): misses.append(why)
            }
        }
        return ChallengeVerdict(.invalid, misses.joined(separator: "; "))
    }

    private func forgetExpired(at instant: ContinuousClock.Instant) {
        lookups = lookups.filter { $0.value.until > instant }
        lastChallenge = lastChallenge.filter { $0.value.until > instant }
    }
}
