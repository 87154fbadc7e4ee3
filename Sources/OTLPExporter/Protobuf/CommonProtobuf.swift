import Tracing

/// `opentelemetry.proto.common.v1` / `resource.v1` field encoders.
enum CommonProtobuf {
    /// AnyValue: the oneof member is always written, zero values included (§7.2).
    static func anyValue(_ value: AttributeValue, into s: inout ProtobufWriter) {
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
    static func keyValues(_ attributes: [Attribute], field: Int, into s: inout ProtobufWriter) {
        attributes.withUnsafeBufferPointer { attributes in  // index in place: no retain/release per element
            for i in attributes.indices {
                s.messageField(field) { kv in
                    if !attributes[i].key.isEmpty { kv.stringField(1, attributes[i].key) }
                    kv.messageField(2) { anyValue(attributes[i].value, into: &$0) }
                }
            }
        }
    }

    static func resource(_ resource: Resource, into s: inout ProtobufWriter) {
        keyValues(resource.attributes, field: 1, into: &s)
    }

    static func scope(_ scope: InstrumentationScope, into s: inout ProtobufWriter) {
        if !scope.name.isEmpty { s.stringField(1, scope.name) }
        if !scope.version.isEmpty { s.stringField(2, scope.version) }
    }

    static func uint32IfNonZero(_ field: Int, _ value: Int, into s: inout ProtobufWriter) {
        if value > 0 { s.uint32Field(field, UInt32(clamping: value)) }
    }
}

/// Indices of items per instrumentation scope, scopes in first-seen order. Consecutive items of
/// one scope (the usual batch) cost one comparison each, no hashing.
struct ScopeGroup {
    let scope: InstrumentationScope
    var indices: [Int]
}

func groupedByScope<T>(_ items: [T], scope: (T) -> InstrumentationScope) -> [ScopeGroup] {
    var groups: [ScopeGroup] = []
    var index: [InstrumentationScope: Int] = [:]
    var current = -1
    items.withUnsafeBufferPointer { items in  // borrow elements, no struct copies
        for i in items.indices {
            let s = scope(items[i])
            if current < 0 || groups[current].scope != s {
                if let known = index[s] {
                    current = known
                } else {
                    current = groups.count
                    index[s] = current
                    groups.append(ScopeGroup(scope: s, indices: []))
                    groups[current].indices.reserveCapacity(items.count - i)
                }
            }
            groups[current].indices.append(i)
        }
    }
    return groups
}
