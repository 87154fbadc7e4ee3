import Foundation

/// Dotted paths into JSON documents (`status`, `mcp_runtime.pod_id`, `checks.0.state`): object
/// keys, and decimal indexes into arrays. The one reader of JSON fields for assertions and
/// restart marks.
public enum JSONPath {
    public static func document(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    /// The value at `path`, or nil when it is missing.
    public static func value(at path: String, in document: Any) -> Any? {
        var node: Any = document
        for component in path.split(separator: ".", omittingEmptySubsequences: false) {
            if let object = node as? [String: Any], let next = object[String(component)] {
                node = next
            } else if let array = node as? [Any], let index = Int(component), array.indices.contains(index) {
                node = array[index]
            } else {
                return nil
            }
        }
        return node
    }

    /// The scalar at `path` as text (see `text(of:)`); nil when the body is not JSON, the path is
    /// missing, or the value is an object, array or null.
    public static func text(at path: String, in body: [UInt8]) -> String? {
        guard let value = document(body).flatMap({ value(at: path, in: $0) }),
              value is String || value is NSNumber else { return nil }
        return text(of: value)
    }

    /// A JSON value as text: strings as they are; `null`, booleans and numbers as JSON writes them
    /// (whole numbers without a fraction: 1.0 is `1`); objects and arrays as JSON with sorted keys.
    public static func text(of value: Any) -> String {
        switch value {
        case let string as String: return string
        case is NSNull: return "null"
        case let number as NSNumber where isBool(number): return number.boolValue ? "true" : "false"
        case let number as NSNumber:
            let double = number.doubleValue
            if double == double.rounded(), abs(double) < 1e15 { return String(number.int64Value) }
            return String(double)
        default:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "?" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// JSON booleans come back as NSNumber; only their ObjC type tells them from 0 and 1.
    public static func isBool(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
