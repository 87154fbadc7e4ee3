#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fuzzer's bytes read as typed choices, front to back. Past the end every read gives zero or
/// empty, so any input, however short, makes a valid (small) value.
public struct FuzzInput {
    private var bytes: ArraySlice<UInt8>

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = size > 0 && data != nil ? ArraySlice(UnsafeBufferPointer(start: data, count: size)) : []
    }

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }

    public mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }

    public mutating func bool() -> Bool { byte() & 1 == 1 }

    public mutating func uint64() -> UInt64 {
        var v: UInt64 = 0
        for _ in 0..<8 { v = v << 8 | UInt64(byte()) }
        return v
    }

    public mutating func int64() -> Int64 { Int64(bitPattern: uint64()) }

    /// A value in `range`, from one byte (ranges are small here).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(byte()) % (range.count)
    }

    /// One of `options`.
    public mutating func pick<T>(_ options: [T]) -> T { options[int(0...options.count - 1)] }

    /// Interesting doubles often (0, -0, ±Inf, NaN, extremes), any bit pattern otherwise.
    public mutating func double() -> Double {
        switch byte() % 8 {
        case 0: return 0
        case 1: return -0.0
        case 2: return .infinity
        case 3: return -.infinity
        case 4: return .nan
        case 5: return Double(int64() % 1_000_000)
        case 6: return .greatestFiniteMagnitude * (bool() ? 1 : -1)
        default: return Double(bitPattern: uint64())
        }
    }

    /// Up to `maxCount` bytes, the count from one byte.
    public mutating func bytes(upTo maxCount: Int) -> [UInt8] {
        let n = min(Int(byte()) % (maxCount + 1), bytes.count)
        defer { bytes = bytes.dropFirst(n) }
        return Array(bytes.prefix(n))
    }

    /// Up to `maxBytes` bytes read as UTF-8 (invalid sequences repaired, as a server's text would be).
    public mutating func string(upTo maxBytes: Int) -> String {
        String(decoding: bytes(upTo: maxBytes), as: UTF8.self)
    }

    /// A short string over `alphabet`.
    public mutating func string(upTo maxCount: Int, from alphabet: [Character]) -> String {
        String((0..<int(0...maxCount)).map { _ in pick(alphabet) })
    }
}

/// A property that must hold: when it does not, says which and why on stderr and aborts, which
/// libFuzzer records as a crash with the input that caused it.
public func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    guard !condition else { return }
    let text = "property violated at \(file):\(line): \(message())\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    abort()
}

/// Dumps a value for a violation message, bytes escaped so that control characters stay visible.
public func shown(_ text: String) -> String {
    text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined()
}
