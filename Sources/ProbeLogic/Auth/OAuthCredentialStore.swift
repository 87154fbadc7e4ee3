import Foundation
import HTTPClient

/// Credentials for every `AuthConfig`: static ones as `StaticCredentials` resolves them, OAuth tokens
/// fetched (client_credentials), read from storage and refreshed (authorization_code), and cached.
///
/// Without a usable OAuth token the probe still runs, without credentials, as
/// `unauthenticated_liveness` with a `note` saying why. When a token request the config asks for
/// failed (the client_credentials grant, the refresh of a stored token) the credentials say
/// `token: .unavailable(reason)`, a finding that `auth.on_token_failure` turns into a verdict.
/// A stored authorization_code token that is missing, or expired or rejected with no refresh to
/// try, is `token: .notStored`: the seed's unauthenticated liveness (ContextForge PR #4496), where a
/// 401/403 proves the target up. A token that is due for renewal but not yet expired keeps being
/// used when renewal fails.
///
/// Token requests of one target are single-flight: concurrent probes wait for the one in progress.
/// They run in the calling probe's trace (CLIENT spans carry method, redacted URL and status only).
public actor OAuthCredentialStore: CredentialSource {
    public struct Options: Sendable {
        public var lifetime: TokenLifetimePolicy
        /// Bound on one token request, connect to last byte.
        public var requestTimeout: Duration
        public var maxResponseBytes: Int

        public init(lifetime: TokenLifetimePolicy = TokenLifetimePolicy(), requestTimeout: Duration = .seconds(5),
                    maxResponseBytes: Int = 64 * 1024) {
            self.lifetime = lifetime
            self.requestTimeout = requestTimeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// Where an authorization_code token came from, and what it held when last read or written.
    private struct StoredSnapshot: Equatable {
        var token: OAuthToken
        /// The token file, when the token came from one (refreshed tokens are written back there).
        var file: String?
    }

    private enum Loaded {
        case token(StoredSnapshot)
        /// Why there is none.
        case none(String)
    }

    private struct Fingerprint: Equatable {
        var auth: AuthConfig
        var url: String
    }

    private let endpoint: TokenEndpoint
    private let lifetime: TokenLifetimePolicy
    private let now: @Sendable () -> Date
    private let environment: @Sendable (String) -> String?

    private var fingerprints: [String: Fingerprint] = [:]
    private var cache = TokenCache()
    private var snapshots: [String: StoredSnapshot] = [:]
    /// Refresh tokens answered with invalid_grant: not sent again until the stored token changes.
    private var deadRefreshTokens: [String: Secret] = [:]
    private var inFlight: [String: Task<ResolvedCredentials, Never>] = [:]

    /// `now` and `environment` are seams for tests (token expiry, `token_env`).
    public init(http: TracedHTTP, options: Options = Options(), now: @escaping @Sendable () -> Date = { Date() },
                environment: @escaping @Sendable (String) -> String? = { ProcessInfo.processInfo.environment[$0] }) {
        self.endpoint = TokenEndpoint(http: http, timeout: options.requestTimeout, maxResponseBytes: options.maxResponseBytes)
        self.lifetime = options.lifetime
        self.now = now
        self.environment = environment
    }

    /// Static credentials are resolved without entering the actor (most probes have them).
    public nonisolated func credentials(for target: Target) async -> ResolvedCredentials {
        switch target.auth {
        case .none, .bearer, .basic:
            return StaticCredentials.resolve(target.auth)
        case .clientCredentials, .authorizationCode:
            return await oauthCredentials(for: target)
        }
    }

    private func oauthCredentials(for target: Target) async -> ResolvedCredentials {
        let key = target.name
        let fingerprint = Fingerprint(auth: target.auth, url: target.url)
        if fingerprints[key] != fingerprint, inFlight[key] == nil {
            forget(key)
            fingerprints[key] = fingerprint
        }
        if let running = inFlight[key] { return await running.value }
        // Inherits this task's locals, so token requests land in the first caller's probe trace.
        let task = Task { await self.resolve(target) }
        inFlight[key] = task
        let result = await task.value
        inFlight[key] = nil
        return result
    }

    public func rejected(_ target: Target) async {
        cache.markRejected(target.name)
    }

    /// Drops everything held for a target (e.g. removed from the configuration).
    public func forget(_ targetName: String) {
        fingerprints[targetName] = nil
        cache.remove(targetName)
        snapshots[targetName] = nil
        deadRefreshTokens[targetName] = nil
    }

    private func resolve(_ target: Target) async -> ResolvedCredentials {
        let resolved: ResolvedCredentials
        let secrets: [String]
        switch target.auth {
        case .clientCredentials(let config):
            resolved = await clientCredentials(config, target: target)
            secrets = [config.clientSecret.value]
        case .authorizationCode(let stored):
            resolved = await authorizationCode(stored, target: target)
            secrets = [stored.clientSecret?.value].compactMap { $0 }
        case .none, .bearer, .basic:
            return StaticCredentials.resolve(target.auth)
        }
        // Notes may carry server-chosen text (error codes): a secret never gets through.
        var scrubbed = resolved
        scrubbed.note = resolved.note.map { note in
            (secrets + tokenSecrets(target.name)).reduce(note) { $1.count < 4 ? $0 : $0.replacingOccurrences(of: $1, with: "REDACTED") }
        }
        return scrubbed
    }

    private func tokenSecrets(_ key: String) -> [String] {
        guard let token = cache[key]?.token else { return [] }
        return [token.accessToken.value, token.refreshToken?.value].compactMap { $0 }
    }

    // MARK: client_credentials

    private func clientCredentials(_ config: ClientCredentials, target: Target) async -> ResolvedCredentials {
        let key = target.name
        let started = now()
        if let token = cache.fresh(key, now: started) { return .bearer(token) }
        let grant = TokenEndpoint.Grant.clientCredentials(scope: config.scope, resource: config.resource ?? target.url)
        let client = TokenEndpoint.Client(id: config.clientID, secret: config.clientSecret)
        switch await endpoint.request(grant, url: config.tokenURL, client: client, tls: target.tls) {
        case .success(let response):
            return .bearer(store(response, previousRefresh: nil, for: key))
        case .failure(let error):
            return fallback(key, note: "token endpoint: \(error)", failure: error.reason)
        }
    }

    // MARK: authorization_code

    private func authorizationCode(_ stored: StoredToken, target: Target) async -> ResolvedCredentials {
        let key = target.name
        let snapshot: StoredSnapshot
        switch load(stored) {
        case .token(let loaded): snapshot = loaded
        case .none(let reason):
            cache.remove(key)
            snapshots[key] = nil
            return .liveness(reason, .notStored)
        }
        if snapshots[key] != snapshot {  // first read, or the operator replaced the token
            snapshots[key] = snapshot
            cache.store(snapshot.token, renewAt: lifetime.renewAt(storedExpiry: snapshot.token.expiresAt), for: key)
        }
        if let token = cache.fresh(key, now: now()) { return .bearer(token) }

        guard let entry = cache[key] else { return .liveness("no stored token", .notStored) }
        let state = entry.rejected ? "stored token rejected" : "stored token expired"
        guard let refresh = entry.token.refreshToken else { return fallback(key, note: "\(state); no refresh token") }
        guard let tokenURL = stored.tokenURL, let clientID = stored.clientID else {
            return fallback(key, note: "\(state); refresh needs token_url and client_id")
        }
        if deadRefreshTokens[key] == refresh {
            return fallback(key, note: "\(state); refresh token was rejected (invalid_grant)", failure: "invalid_grant")
        }
        let client = TokenEndpoint.Client(id: clientID, secret: stored.clientSecret)
        switch await endpoint.request(.refreshToken(refresh, resource: target.url), url: tokenURL, client: client, tls: target.tls) {
        case .failure(let error):
            if error.isInvalidGrant { deadRefreshTokens[key] = refresh }
            return fallback(key, note: "token refresh: \(error)", failure: error.reason)
        case .success(let response):
            let token = store(response, previousRefresh: refresh, for: key)
            guard let file = snapshots[key]?.file else { return .bearer(token) }
            switch StoredTokenFile.write(token, to: file) {
            case .success:
                snapshots[key] = StoredSnapshot(token: token, file: file)
                return .bearer(token)
            case .failure(let failure):
                // Still usable from memory; the next read sees the old file unchanged and keeps this token.
                return .bearer(token, note: "refreshed token not saved: \(failure)")
            }
        }
    }

    /// The token file if configured and readable, else the environment variable.
    private func load(_ stored: StoredToken) -> Loaded {
        var reasons: [String] = []
        if let path = stored.tokenFile {
            switch StoredTokenFile.read(path) {
            case .success(let token): return .token(StoredSnapshot(token: token, file: path))
            case .failure(let failure): reasons.append("\(failure)")
            }
        }
        if let name = stored.tokenEnv {
            let value = environment(name)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if !value.isEmpty { return .token(StoredSnapshot(token: OAuthToken(accessToken: Secret(value)), file: nil)) }
            reasons.append("$\(name) is not set")
        }
        return .none(reasons.isEmpty ? "no token_file or token_env configured" : reasons.joined(separator: "; "))
    }

    // MARK: shared

    private func store(_ response: TokenResponse, previousRefresh: Secret?, for key: String) -> OAuthToken {
        let issued = now()
        // Whole seconds, as the token file stores them, so a re-read compares equal.
        let expiresAt = response.expiresIn.map { Date(timeIntervalSince1970: (issued.timeIntervalSince1970 + Double($0)).rounded(.down)) }
        let token = OAuthToken(accessToken: response.accessToken, refreshToken: response.refreshToken ?? previousRefresh,
                               expiresAt: expiresAt)
        cache.store(token, renewAt: lifetime.renewAt(issuedAt: issued, expiresIn: response.expiresIn), for: key)
        return token
    }

    /// No fresh token: keep using one the server should still accept, else probe without one.
    /// `failure`: the reason a token request failed (a finding); nil when there was none to make.
    private func fallback(_ key: String, note: String, failure: String? = nil) -> ResolvedCredentials {
        if let token = cache.stillValid(key, now: now()) { return .bearer(token, note: note) }
        return .liveness(note, failure.map { .unavailable(reason: $0) } ?? .notStored)
    }
}

extension ResolvedCredentials {
    static func bearer(_ token: OAuthToken, note: String? = nil) -> ResolvedCredentials {
        ResolvedCredentials(authorization: "Bearer \(token.accessToken.value)", probeType: .authenticated, note: note,
                            token: .obtained)
    }

    static func liveness(_ note: String, _ token: TokenState) -> ResolvedCredentials {
        ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness, note: note, token: token)
    }
}
