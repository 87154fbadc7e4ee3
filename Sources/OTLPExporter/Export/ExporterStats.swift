/// Self-metrics of one exporter, in items (spans or data points) unless named otherwise.
public struct ExporterStats: Sendable, Equatable {
    public var exported = 0
    public var droppedNonRetryable = 0
    public var droppedRetryExhausted = 0
    public var droppedTooLarge = 0
    /// Exports refused because the exporter was shut down, or left undelivered at shutdown.
    public var droppedAtShutdown = 0
    /// Items the receiver reported as rejected in a partial success.
    public var rejectedPartial = 0
    /// Items appended to the spool because the collector did not take them then.
    public var spooled = 0
    /// Items the collector accepted from the spool (also counted in `exported`).
    public var replayed = 0
    /// Requests sent again.
    public var retries = 0
    /// Export calls that did not deliver everything.
    public var failures = 0
    /// The last failure, with secrets removed.
    public var lastError: String?

    public init() {}

    public var dropped: Int { droppedNonRetryable + droppedRetryExhausted + droppedTooLarge + droppedAtShutdown }
}
