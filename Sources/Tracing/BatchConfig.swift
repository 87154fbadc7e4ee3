/// Settings of a `BatchSpanProcessor`.
public struct BatchConfig: Sendable, Equatable {
    /// Longest wait between two exports.
    public var scheduleDelay: Duration
    /// Longest one export call may take.
    public var exportTimeout: Duration
    public var maxQueueSize: Int
    /// At most `maxQueueSize`.
    public var maxExportBatchSize: Int

    public init(scheduleDelay: Duration = .milliseconds(5000), exportTimeout: Duration = .milliseconds(30000),
                maxQueueSize: Int = 2048, maxExportBatchSize: Int = 512) {
        self.scheduleDelay = scheduleDelay
        self.exportTimeout = exportTimeout
        self.maxQueueSize = maxQueueSize
        self.maxExportBatchSize = maxExportBatchSize
    }

    /// The same settings with sizes forced into their valid ranges.
    var sanitized: BatchConfig {
        var c = self
        c.maxQueueSize = max(1, c.maxQueueSize)
        c.maxExportBatchSize = min(max(1, c.maxExportBatchSize), c.maxQueueSize)
        if c.scheduleDelay < .zero { c.scheduleDelay = .zero }
        if c.exportTimeout <= .zero { c.exportTimeout = .milliseconds(Int(Int32.max)) }
        return c
    }
}
