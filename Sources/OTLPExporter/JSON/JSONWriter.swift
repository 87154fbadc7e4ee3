/// A minimal streaming JSON writer over bytes; commas are inserted automatically.
package struct JSONWriter {
    package private(set) var bytes: [UInt8] = []
    private var needsComma = false

    package init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    package mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    package mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    package mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    package mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    package mutating func key(_ key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    /// A key known only at run time (a label's name), escaped as a string is.
    package mutating func key(_ key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A value of the kinds JSONSerialization takes: String, Bool, Int, Double, arrays of them and
    /// dictionaries keyed by strings (written with their keys sorted); anything else is `null`.
    package mutating func any(_ value: Any) {
        switch value {
        case let text as String: string(text)
        case let flag as Bool: bool(flag)
        case let number as Int: int(number)
        case let number as Double: double(number)
        case let array as [Any]:
            beginArray()
            for element in array { any(element) }
            endArray()
        case let object as [String: Any]:
            beginObject()
            for (key, element) in object.sorted(by: { $0.key < $1.key }) {
                self.key(key)
                any(element)
            }
            endObject()
        default: raw("null")
        }
    }

    package mutating func object(_ key: StaticString, _ body: (inout JSONWriter) -> Void) {
        self.key(key)
        beginObject()
        body(&self)
        endObject()
    }

    package mutating func array(_ key: StaticString, _ body: (inout JSONWriter) -> Void) {
        self.key(key)
        beginArray()
        body(&self)
        endArray()
    }

    package mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        let utf8 = value.utf8
        if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5c }) {  // the common case: nothing to escape
            bytes.append(contentsOf: utf8)
            bytes.append(UInt8(ascii: "\""))
            needsComma = true
            return
        }
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5c, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5c, 0x5c])
            case 0x0a: bytes.append(contentsOf: [0x5c, UInt8(ascii: "n")])
            case 0x0d: bytes.append(contentsOf: [0x5c, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5c, UInt8(ascii: "t")])
            case 0..<0x20:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(Self.hexDigits[Int(b >> 4)])
                bytes.append(Self.hexDigits[Int(b & 0xf)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Raw ASCII (numbers, literals, pre-escaped text).
    mutating func raw(_ text: String) {
        separate()
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    package mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }
    package mutating func int(_ value: Int) { raw(String(value)) }
    /// 64-bit integers are decimal strings in proto3 JSON.
    package mutating func int64String(_ value: Int64) { raw("\"\(value)\"") }
    package mutating func uint64String(_ value: UInt64) { raw("\"\(value)\"") }

    /// A number, or "NaN" / "Infinity" / "-Infinity" as strings.
    package mutating func double(_ value: Double) {
        if value.isNaN { raw("\"NaN\"") }
        else if value == .infinity { raw("\"Infinity\"") }
        else if value == -.infinity { raw("\"-Infinity\"") }
        else if value == value.rounded(.towardZero), abs(value) < 1e15 { raw(String(Int64(value))) }
        else { raw(value.description) }
    }

    /// Lowercase hex (trace and span ids).
    mutating func hex(_ words: UInt64...) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for word in words {
            for shift in stride(from: 60, through: 0, by: -4) {
                bytes.append(Self.hexDigits[Int((word >> UInt64(shift)) & 0xf)])
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Standard base64 with padding.
    package mutating func base64(_ data: [UInt8]) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var i = 0
        while i + 3 <= data.count {
            let n = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
            for shift in [18, 12, 6, 0] { bytes.append(Self.base64Digits[Int((n >> UInt32(shift)) & 63)]) }
            i += 3
        }
        let rest = data.count - i
        if rest > 0 {
            let n = UInt32(data[i]) << 16 | (rest == 2 ? UInt32(data[i + 1]) << 8 : 0)
            bytes.append(Self.base64Digits[Int(n >> 18 & 63)])
            bytes.append(Self.base64Digits[Int(n >> 12 & 63)])
            bytes.append(rest == 2 ? Self.base64Digits[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            bytes.append(UInt8(ascii: "="))
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    @inline(__always) private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let base64Digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
}
