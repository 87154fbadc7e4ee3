/// A 16-byte W3C trace id. Never all zero when generated.
public struct TraceID: Hashable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let invalid = TraceID(high: 0, low: 0)
    public var isValid: Bool { high != 0 || low != 0 }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> TraceID {
        while true {
            let id = TraceID(high: generator.next(), low: generator.next())
            if id.isValid { return id }
        }
    }

    /// A random valid id from the process-wide fast generator.
    public static func random() -> TraceID {
        FastRandomNumberGenerator.traceID()
    }

    /// Big-endian bytes, as on the wire.
    public var bytes: [UInt8] { high.bigEndianBytes + low.bigEndianBytes }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        let array = Array(bytes)
        self.init(high: UInt64(bigEndianBytes: array[0..<8]), low: UInt64(bigEndianBytes: array[8..<16]))
    }

    /// 32 lowercase hex characters.
    public var hex: String { Hex.encode(bytes) }

    /// Parses 32 hex characters (either case).
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 32, let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    public var description: String { hex }
}

/// An 8-byte W3C span id. Never zero when generated.
public struct SpanID: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64

    public init(_ value: UInt64) { self.value = value }

    public static let invalid = SpanID(0)
    public var isValid: Bool { value != 0 }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> SpanID {
        while true {
            let id = SpanID(generator.next())
            if id.isValid { return id }
        }
    }

    /// A random valid id from the process-wide fast generator.
    public static func random() -> SpanID {
        FastRandomNumberGenerator.spanID()
    }

    public var bytes: [UInt8] { value.bigEndianBytes }

    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 8 else { return nil }
        self.init(UInt64(bigEndianBytes: Array(bytes)[0..<8]))
    }

    public var hex: String { Hex.encode(bytes) }

    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 16, let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    public var description: String { hex }
}

/// W3C trace-flags. Bit 0 = sampled; bit 1 = random (Level 2).
public struct TraceFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let sampled = TraceFlags(rawValue: 0x01)
    public static let random = TraceFlags(rawValue: 0x02)
}

/// The propagated part of a span: what a child or a remote peer needs to join the trace.
public struct SpanContext: Hashable, Sendable {
    public var traceID: TraceID
    public var spanID: SpanID
    public var traceFlags: TraceFlags
    public var traceState: String
    public var isRemote: Bool

    public init(traceID: TraceID, spanID: SpanID, traceFlags: TraceFlags = .sampled,
                traceState: String = "", isRemote: Bool = false) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceFlags = traceFlags
        self.traceState = traceState
        self.isRemote = isRemote
    }

    public var isValid: Bool { traceID.isValid && spanID.isValid }
    public var isSampled: Bool { traceFlags.contains(.sampled) }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension UInt64 {
    var bigEndianBytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: self >> (56 - 8 * UInt64($0))) }
    }

    init(bigEndianBytes bytes: ArraySlice<UInt8>) {
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        self = v
    }
}
