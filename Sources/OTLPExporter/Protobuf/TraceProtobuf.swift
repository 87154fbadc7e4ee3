import Tracing

/// `ExportTraceServiceRequest` (opentelemetry.proto.collector.trace.v1) straight from `SpanData`.
package struct TraceRequestProtobuf: ProtobufEncodable {
    package let resource: Resource
    let spans: [SpanData]
    let groups: [ScopeGroup]

    package init(spans: [SpanData], resource: Resource) {
        self.resource = resource
        self.spans = spans
        groups = groupedByScope(spans) { $0.scope }
    }

    package func encode(into s: inout ProtobufWriter) {
        guard !groups.isEmpty else { return }  // no empty envelopes
        s.messageField(1) { rs in
            rs.messageField(1) { CommonProtobuf.resource(resource, into: &$0) }
            for group in groups {
                rs.messageField(2) { ss in
                    ss.messageField(1) { CommonProtobuf.scope(group.scope, into: &$0) }
                    spans.withUnsafeBufferPointer { spans in  // borrow spans in place, no struct copies
                        for i in group.indices {
                            ss.messageField(2) { TraceProtobuf.span(spans[i], into: &$0) }
                        }
                    }
                }
            }
        }
    }
}

enum TraceProtobuf {
    static func span(_ span: SpanData, into s: inout ProtobufWriter) {
        s.idField(1, high: span.context.traceID.high, low: span.context.traceID.low)
        s.idField(2, high: nil, low: span.context.spanID.value)
        if !span.context.traceState.isEmpty { s.stringField(3, span.context.traceState) }
        if let parent = span.parentSpanID, parent.isValid { s.idField(4, high: nil, low: parent.value) }
        s.stringField(5, span.name)
        if span.kind.rawValue != 0 { s.varintField(6, UInt64(span.kind.rawValue)) }
        if span.startTimeUnixNano != 0 { s.fixed64Field(7, span.startTimeUnixNano) }
        if span.endTimeUnixNano != 0 { s.fixed64Field(8, span.endTimeUnixNano) }
        CommonProtobuf.keyValues(span.attributes, field: 9, into: &s)
        CommonProtobuf.uint32IfNonZero(10, span.droppedAttributesCount, into: &s)
        for event in span.events {
            s.messageField(11) { e in
                if event.timeUnixNano != 0 { e.fixed64Field(1, event.timeUnixNano) }
                if !event.name.isEmpty { e.stringField(2, event.name) }
                CommonProtobuf.keyValues(event.attributes, field: 3, into: &e)
                CommonProtobuf.uint32IfNonZero(4, event.droppedAttributesCount, into: &e)
            }
        }
        CommonProtobuf.uint32IfNonZero(12, span.droppedEventsCount, into: &s)
        for link in span.links {
            s.messageField(13) { l in
                l.idField(1, high: link.context.traceID.high, low: link.context.traceID.low)
                l.idField(2, high: nil, low: link.context.spanID.value)
                if !link.context.traceState.isEmpty { l.stringField(3, link.context.traceState) }
                CommonProtobuf.keyValues(link.attributes, field: 4, into: &l)
                CommonProtobuf.uint32IfNonZero(5, link.droppedAttributesCount, into: &l)
                l.fixed32Field(6, SpanFlagBits.link(link.context))
            }
        }
        CommonProtobuf.uint32IfNonZero(14, span.droppedLinksCount, into: &s)
        if span.status.code != .unset {  // a message counts only with code ERROR
            s.messageField(15) { st in
                if span.status.code == .error, !span.status.message.isEmpty { st.stringField(2, span.status.message) }
                st.varintField(3, UInt64(span.status.code.rawValue))
            }
        }
        s.fixed32Field(16, SpanFlagBits.span(span))
    }
}

/// OTLP `SpanFlags`: bits 0-7 W3C trace flags, bit 8 "is-remote known", bit 9 "is remote".
enum SpanFlagBits {
    static let hasIsRemote: UInt32 = 0x100
    static let isRemote: UInt32 = 0x200

    static func span(_ span: SpanData) -> UInt32 {
        var flags = UInt32(span.context.traceFlags.rawValue)
        // A root span's parent remoteness is known (there is none); a child's is known when recorded.
        if span.parentSpanID == nil || span.parentIsRemote != nil { flags |= hasIsRemote }
        if span.parentIsRemote == true { flags |= isRemote }
        return flags
    }

    static func link(_ context: SpanContext) -> UInt32 {
        UInt32(context.traceFlags.rawValue) | hasIsRemote | (context.isRemote ? isRemote : 0)
    }
}
