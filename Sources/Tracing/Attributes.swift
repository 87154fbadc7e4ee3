/// An attribute value of any OTLP `AnyValue` type.
public enum AttributeValue: Sendable, Hashable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([AttributeValue])
    case map([Attribute])
}

/// One key/value pair. Lists of attributes keep insertion order; keys are unique per list.
public struct Attribute: Sendable, Hashable {
    public var key: String
    public var value: AttributeValue

    public init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

extension AttributeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension AttributeValue {
    public static func int(_ value: Int) -> AttributeValue { .int(Int64(value)) }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int64? { if case .int(let i) = self { return i } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var doubleValue: Double? { if case .double(let d) = self { return d } else { return nil } }
}

extension Array where Element == Attribute {
    /// Sets `key` to `value`, replacing an existing entry in place.
    public mutating func set(_ key: String, _ value: AttributeValue) {
        if let i = firstIndex(where: { $0.key == key }) {
            self[i].value = value
        } else {
            append(Attribute(key, value))
        }
    }

    public subscript(key: String) -> AttributeValue? {
        first(where: { $0.key == key })?.value
    }
}
