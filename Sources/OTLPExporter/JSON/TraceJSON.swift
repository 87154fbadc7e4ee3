import Tracing

/// `ExportTraceServiceRequest` as OTLP/JSON.
package enum TraceRequestJSON {
    package static func encode(spans: [SpanData], resource: Resource) -> [UInt8] {
        var w = JSONWriter(capacity: 512 * spans.count)
        w.beginObject()
        let groups = groupedByScope(spans) { $0.scope }
        if !groups.isEmpty {
            w.array("resourceSpans") { list in
                list.beginObject()
                CommonJSON.resource(resource, into: &list)
                list.array("scopeSpans") { scopes in
                    for group in groups {
                        scopes.beginObject()
                        CommonJSON.scope(group.scope, into: &scopes)
                        scopes.array("spans") { out in for i in group.indices { self.span(spans[i], into: &out) } }
                        scopes.endObject()
                    }
                }
                list.endObject()
            }
        }
        w.endObject()
        return w.bytes
    }

    static func span(_ span: SpanData, into w: inout JSONWriter) {
        let ctx = span.context
        w.beginObject()
        w.key("traceId"); w.hex(ctx.traceID.high, ctx.traceID.low)
        w.key("spanId"); w.hex(ctx.spanID.value)
        if !ctx.traceState.isEmpty { w.key("traceState"); w.string(ctx.traceState) }
        if let parent = span.parentSpanID, parent.isValid { w.key("parentSpanId"); w.hex(parent.value) }
        w.key("flags"); w.int(Int(SpanFlagBits.span(span)))
        w.key("name"); w.string(span.name)
        if span.kind.rawValue != 0 { w.key("kind"); w.int(span.kind.rawValue) }
        w.key("startTimeUnixNano"); w.uint64String(span.startTimeUnixNano)
        w.key("endTimeUnixNano"); w.uint64String(span.endTimeUnixNano)
        CommonJSON.keyValues("attributes", span.attributes, into: &w)
        CommonJSON.countIfNonZero("droppedAttributesCount", span.droppedAttributesCount, into: &w)
        if !span.events.isEmpty {
            w.array("events") { list in
                for event in span.events {
                    list.beginObject()
                    list.key("timeUnixNano"); list.uint64String(event.timeUnixNano)
                    list.key("name"); list.string(event.name)
                    CommonJSON.keyValues("attributes", event.attributes, into: &list)
                    CommonJSON.countIfNonZero("droppedAttributesCount", event.droppedAttributesCount, into: &list)
                    list.endObject()
                }
            }
        }
        CommonJSON.countIfNonZero("droppedEventsCount", span.droppedEventsCount, into: &w)
        if !span.links.isEmpty {
            w.array("links") { list in
                for link in span.links {
                    list.beginObject()
                    list.key("traceId"); list.hex(link.context.traceID.high, link.context.traceID.low)
                    list.key("spanId"); list.hex(link.context.spanID.value)
                    if !link.context.traceState.isEmpty { list.key("traceState"); list.string(link.context.traceState) }
                    CommonJSON.keyValues("attributes", link.attributes, into: &list)
                    CommonJSON.countIfNonZero("droppedAttributesCount", link.droppedAttributesCount, into: &list)
                    list.key("flags"); list.int(Int(SpanFlagBits.link(link.context)))
                    list.endObject()
                }
            }
        }
        CommonJSON.countIfNonZero("droppedLinksCount", span.droppedLinksCount, into: &w)
        if span.status.code != .unset {
            w.object("status") { s in
                if span.status.code == .error, !span.status.message.isEmpty { s.key("message"); s.string(span.status.message) }
                s.key("code"); s.int(span.status.code.rawValue)
            }
        }
        w.endObject()
    }
}
