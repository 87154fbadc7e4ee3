import Tracing

/// OTLP/JSON for `common.v1` / `resource.v1` messages (§5: lowerCamelCase, int64 as strings).
enum CommonJSON {
    static func anyValue(_ value: AttributeValue, into w: inout JSONWriter) {
        w.beginObject()
        switch value {
        case .string(let v): w.key("stringValue"); w.string(v)
        case .bool(let v): w.key("boolValue"); w.bool(v)
        case .int(let v): w.key("intValue"); w.int64String(v)
        case .double(let v): w.key("doubleValue"); w.double(v)
        case .bytes(let v): w.key("bytesValue"); w.base64(v)
        case .array(let values):
            w.object("arrayValue") { a in
                a.array("values") { list in for v in values { anyValue(v, into: &list) } }
            }
        case .map(let entries):
            w.object("kvlistValue") { kv in keyValues("values", entries, into: &kv) }
        }
        w.endObject()
    }

    static func keyValues(_ key: StaticString, _ attributes: [Attribute], into w: inout JSONWriter) {
        guard !attributes.isEmpty else { return }
        w.array(key) { list in
            for attribute in attributes {
                list.beginObject()
                list.key("key"); list.string(attribute.key)
                list.key("value"); anyValue(attribute.value, into: &list)
                list.endObject()
            }
        }
    }

    static func resource(_ resource: Resource, into w: inout JSONWriter) {
        w.object("resource") { keyValues("attributes", resource.attributes, into: &$0) }
    }

    static func scope(_ scope: InstrumentationScope, into w: inout JSONWriter) {
        w.object("scope") { s in
            if !scope.name.isEmpty { s.key("name"); s.string(scope.name) }
            if !scope.version.isEmpty { s.key("version"); s.string(scope.version) }
        }
    }

    static func countIfNonZero(_ key: StaticString, _ value: Int, into w: inout JSONWriter) {
        if value > 0 { w.key(key); w.int(Int(UInt32(clamping: value))) }  // a uint32 field, as in protobuf
    }
}
