/// `auth.on_token_failure`: what a probe concludes when the OAuth token its auth config asks for
/// cannot be obtained. Either way it probes without credentials and records `auth.status =
/// token_unavailable` with the reason.
public enum TokenFailurePolicy: String, Sendable, Equatable, CaseIterable {
    /// A target that answers is `degraded` (`error.type = token_unavailable`); a target that does
    /// not answer, or answers wrongly, keeps that verdict.
    case degraded
    /// The seed's unauthenticated liveness: the verdict of the probe without credentials stands
    /// (401/403 → `alive`).
    case liveness
}

/// What became of the OAuth token a target's auth asks for.
public enum TokenState: Sendable, Equatable {
    /// A token was sent (also one due for renewal whose renewal failed, while it has not expired).
    case obtained
    /// `authorization_code` with no usable stored token and no refresh to try: the probe runs as
    /// unauthenticated liveness by design (the seed's rule), not a finding.
    case notStored
    /// The config asks for a token that could not be obtained (token endpoint failing, refresh
    /// rejected): a finding. `reason` is from a short, fixed vocabulary (`TokenError.reason`).
    case unavailable(reason: String)

    public var unavailableReason: String? {
        if case .unavailable(let reason) = self { reason } else { nil }
    }
}

extension AuthConfig {
    /// `auth.on_token_failure` of the OAuth grants; nil for static credentials.
    public var tokenFailurePolicy: TokenFailurePolicy? {
        switch self {
        case .none, .bearer, .basic: nil
        case .clientCredentials(let config): config.onTokenFailure
        case .authorizationCode(let stored): stored.onTokenFailure
        }
    }
}

extension ProbeReport {
    /// The one place a token failure changes a probe's verdict (`auth.on_token_failure`).
    mutating func applyTokenFailurePolicy(_ policy: TokenFailurePolicy?) {
        guard let reason = token?.unavailableReason, policy ?? .degraded == .degraded, outcome.health.isSuccess else { return }
        outcome = Outcome(.degraded, .tokenUnavailable,
                          "could not obtain the OAuth token (\(reason)); without credentials the target is \(outcome.health.rawValue)")
    }
}
