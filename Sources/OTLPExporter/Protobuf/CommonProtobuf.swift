import Tracing

/// `opentelemetry.proto.common.v1` / `resource.v1` field encoders.
enum CommonProtobuf {
    /// AnyValue: the oneof member is always written, zero values included (§7.2).
    static func anyValue<S: ProtobufSink>(_ value: AttributeValue, into s: inout S) {
        switch value {
        case .string(let v): s.stringField(1, v)
        case .bool(let v): s.boolField(2, v)
        case .int(let v): s.int64Field(3, v)
        case .double(let v): s.doubleField(4, v)
        case .array(let values):
            s.messageField(5) { array in
                for v in values { array.messageField(1) { anyValue(v, into: &$0) } }
            }
        case .map(let entries):
            s.messageField(6) { list in keyValues(entries, field: 1, into: &list) }
        case .bytes(let v): s.bytesField(7, v)
        }
    }

    /// Repeated KeyValue under `field`; the value message is always present.
    static func keyValues<S: ProtobufSink>(_ attributes: [Attribute], field: Int, into s: inout S) {
        for attribute in attributes {
            s.messageField(field) { kv in
                if !attribute.key.isEmpty { kv.stringField(1, attribute.key) }
                kv.messageField(2) { anyValue(attribute.value, into: &$0) }
            }
        }
    }

    static func resource<S: ProtobufSink>(_ resource: Resource, into s: inout S) {
        keyValues(resource.attributes, field: 1, into: &s)
    }

    static func scope<S: ProtobufSink>(_ scope: InstrumentationScope, into s: inout S) {
        if !scope.name.isEmpty { s.stringField(1, scope.name) }
        if !scope.version.isEmpty { s.stringField(2, scope.version) }
    }

    static func uint32IfNonZero<S: ProtobufSink>(_ field: Int, _ value: Int, into s: inout S) {
        if value > 0 { s.uint32Field(field, UInt32(clamping: value)) }
    }
}

/// Items in first-seen order of their instrumentation scope.
func groupedByScope<T>(_ items: [T], scope: (T) -> InstrumentationScope) -> [(scope: InstrumentationScope, items: [T])] {
    var index: [InstrumentationScope: Int] = [:]
    var groups: [(scope: InstrumentationScope, items: [T])] = []
    for item in items {
        let s = scope(item)
        if let i = index[s] {
            groups[i].items.append(item)
        } else {
            index[s] = groups.count
            groups.append((s, [item]))
        }
    }
    return groups
}
