/// The verdict on one probe: `health.status`, a bounded `error.type`, a short message.
public struct Outcome: Sendable, Equatable {
    public var health: HealthStatus
    public var errorType: ProbeErrorType?
    public var message: String

    public init(_ health: HealthStatus, _ errorType: ProbeErrorType? = nil, _ message: String = "") {
        self.health = health
        self.errorType = errorType
        self.message = message
    }
}
