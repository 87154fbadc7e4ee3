/// When a target's state changes: consecutive failures before UNHEALTHY (the gateway's
/// UNHEALTHY_THRESHOLD, default 3) and consecutive successes before it counts as recovered.
public struct HealthPolicy: Sendable, Equatable {
    public var failureThreshold: Int
    public var successThreshold: Int

    public init(failureThreshold: Int = 3, successThreshold: Int = 1) {
        self.failureThreshold = failureThreshold
        self.successThreshold = successThreshold
    }
}

/// A configured sign that a target restarted.
public enum RestartSignal: Sendable, Equatable {
    /// A response header (e.g. an instance id or start time) whose value changes on restart.
    case headerChanges(name: String)
    /// A JSON field of a response (dotted path) that changes on restart (instance id, start time).
    /// `url` nil = the probe's own response; otherwise a separate GET (e.g. a gateway's `/version`),
    /// sent with `auth` when given (static credentials only), else with the target's.
    case jsonFieldChanges(url: String?, path: String, auth: AuthConfig? = nil)
    /// A JSON field that only grows while the process lives (uptime): a decrease means a restart.
    case jsonFieldDecreases(url: String?, path: String, auth: AuthConfig? = nil)
}
