/// Settings of a `BatchSpanProcessor` (OTEL_BSP_*).
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

    /// OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT (0 = no limit), OTEL_BSP_MAX_QUEUE_SIZE,
    /// OTEL_BSP_MAX_EXPORT_BATCH_SIZE. A batch size above the queue size warns and is lowered to it.
    public static func fromEnvironment(_ env: [String: String]) -> (BatchConfig, warnings: [String]) {
        var values = EnvironmentValues(env)
        var config = BatchConfig()
        config.scheduleDelay = values.duration("OTEL_BSP_SCHEDULE_DELAY") ?? config.scheduleDelay
        config.exportTimeout = values.timeout("OTEL_BSP_EXPORT_TIMEOUT") ?? config.exportTimeout
        config.maxQueueSize = values.integer("OTEL_BSP_MAX_QUEUE_SIZE", in: 1...Int(Int32.max)) ?? config.maxQueueSize
        config.maxExportBatchSize = values.integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", in: 1...Int(Int32.max))
            ?? config.maxExportBatchSize
        if config.maxExportBatchSize > config.maxQueueSize {
            values.warnings.append("OTEL_BSP_MAX_EXPORT_BATCH_SIZE \(config.maxExportBatchSize) exceeds "
                + "OTEL_BSP_MAX_QUEUE_SIZE \(config.maxQueueSize); using \(config.maxQueueSize)")
            config.maxExportBatchSize = config.maxQueueSize
        }
        return (config, values.warnings)
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
