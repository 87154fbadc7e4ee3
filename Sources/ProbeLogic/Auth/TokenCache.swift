import Foundation

/// An OAuth access token with what is known of its lifetime.
public struct OAuthToken: Sendable, Equatable {
    public var accessToken: Secret
    public var refreshToken: Secret?
    /// When the server stops accepting it; nil when unknown.
    public var expiresAt: Date?

    public init(accessToken: Secret, refreshToken: Secret? = nil, expiresAt: Date? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
    }
}

/// When tokens are renewed: `skew` before expiry, but never before half their lifetime (so a token
/// that lives less than the skew is still reused), and after `defaultLifetime` when no expiry is known.
public struct TokenLifetimePolicy: Sendable, Equatable {
    public var skew: Duration
    public var defaultLifetime: Duration

    public init(skew: Duration = .seconds(30), defaultLifetime: Duration = .seconds(300)) {
        self.skew = skew
        self.defaultLifetime = defaultLifetime
    }

    /// Renewal time of a token issued now with `expiresIn` seconds (nil: unknown).
    func renewAt(issuedAt now: Date, expiresIn: Int?) -> Date {
        guard let expiresIn else { return now.addingTimeInterval(defaultLifetime.seconds) }
        let lifetime = Double(expiresIn)
        return now.addingTimeInterval(max(lifetime - skew.seconds, lifetime / 2))
    }

    /// Renewal time of a token read from storage: `skew` before its expiry, or never when unknown.
    func renewAt(storedExpiry: Date?) -> Date? { storedExpiry?.addingTimeInterval(-skew.seconds) }
}

/// Tokens per target, each with its renewal time and whether the target rejected it.
struct TokenCache: Sendable {
    struct Entry: Sendable, Equatable {
        var token: OAuthToken
        var renewAt: Date?
        var rejected = false
    }

    private var entries: [String: Entry] = [:]

    subscript(key: String) -> Entry? { entries[key] }

    mutating func store(_ token: OAuthToken, renewAt: Date?, for key: String) {
        entries[key] = Entry(token: token, renewAt: renewAt)
    }

    mutating func remove(_ key: String) { entries[key] = nil }

    mutating func markRejected(_ key: String) { entries[key]?.rejected = true }

    /// The token, while it needs no renewal.
    func fresh(_ key: String, now: Date) -> OAuthToken? {
        guard let entry = entries[key], !entry.rejected else { return nil }
        if let renewAt = entry.renewAt, now >= renewAt { return nil }
        return entry.token
    }

    /// The token, while the server should still accept it (renewal due or failed, not yet expired).
    func stillValid(_ key: String, now: Date) -> OAuthToken? {
        guard let entry = entries[key], !entry.rejected else { return nil }
        if let expiresAt = entry.token.expiresAt, now >= expiresAt { return nil }
        return entry.token
    }
}
