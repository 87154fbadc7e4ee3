import Foundation

/// What one probe request carries for authentication, and what kind of probe that makes it.
public struct ResolvedCredentials: Sendable, Equatable {
    /// The `Authorization` header value, or nil to probe without credentials.
    public var authorization: String?
    public var probeType: ProbeType
    /// Why no credentials could be used, when that is the case (never contains a secret).
    public var note: String?
    /// What became of the OAuth token the target's auth asks for; nil for static credentials.
    public var token: TokenState?

    public var areSent: Bool { authorization != nil }

    public init(authorization: String?, probeType: ProbeType, note: String? = nil, token: TokenState? = nil) {
        self.authorization = authorization
        self.probeType = probeType
        self.note = note
        self.token = token
    }
}

/// Printing never shows the credential itself.
extension ResolvedCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        let authorization = authorization.map { ($0.split(separator: " ").first.map(String.init) ?? "") + " <redacted>" } ?? "none"
        return "ResolvedCredentials(authorization: \(authorization), probeType: \(probeType.rawValue), note: \(note ?? "none"), token: \(token.map { "\($0)" } ?? "none"))"
    }

    public var debugDescription: String { description }
}

/// Turns a target's auth config into request credentials (fetching and caching tokens as needed).
public protocol CredentialSource: Sendable {
    func credentials(for target: Target) async -> ResolvedCredentials
    /// The target answered 401 to the credentials we sent: drop cached tokens.
    func rejected(_ target: Target) async
}

/// Static credentials only: none, bearer, basic. OAuth grants fall back to unauthenticated liveness.
public struct StaticCredentials: CredentialSource {
    public init() {}

    public func credentials(for target: Target) async -> ResolvedCredentials {
        Self.resolve(target.auth)
    }

    public func rejected(_ target: Target) async {}

    public static func resolve(_ auth: AuthConfig) -> ResolvedCredentials {
        switch auth {
        case .none:
            ResolvedCredentials(authorization: nil, probeType: .anonymous)
        case .bearer(let token):
            ResolvedCredentials(authorization: "Bearer \(token.value)", probeType: .authenticated)
        case .basic(let username, let password):
            ResolvedCredentials(authorization: "Basic " + Data("\(username):\(password.value)".utf8).base64EncodedString(),
                                probeType: .authenticated)
        case .clientCredentials, .authorizationCode:
            ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness, note: "no OAuth token source")
        }
    }
}
