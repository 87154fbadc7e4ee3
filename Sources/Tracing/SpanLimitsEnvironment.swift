extension SpanLimits {
    /// Limits from OTEL_SPAN_* / OTEL_EVENT_* / OTEL_LINK_* and the generic OTEL_ATTRIBUTE_*
    /// variables. A model-specific variable beats the generic one; the generic attribute count
    /// applies to span, event and link attributes alike. Invalid values warn and fall back.
    public static func fromEnvironment(_ env: [String: String]) -> (SpanLimits, warnings: [String]) {
        var values = EnvironmentValues(env)
        var limits = SpanLimits()
        let genericCount = values.integer("OTEL_ATTRIBUTE_COUNT_LIMIT")
        let genericLength = values.integer("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")
        limits.attributeCount = values.integer("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") ?? genericCount ?? limits.attributeCount
        limits.attributeValueLength = values.integer("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") ?? genericLength
        limits.eventCount = values.integer("OTEL_SPAN_EVENT_COUNT_LIMIT") ?? limits.eventCount
        limits.linkCount = values.integer("OTEL_SPAN_LINK_COUNT_LIMIT") ?? limits.linkCount
        limits.attributesPerEvent = values.integer("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT") ?? genericCount
            ?? limits.attributesPerEvent
        limits.attributesPerLink = values.integer("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT") ?? genericCount
            ?? limits.attributesPerLink
        return (limits, values.warnings)
    }
}
