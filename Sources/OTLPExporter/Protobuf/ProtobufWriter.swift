/// Protobuf wire types (§7.1 of the OTLP reference).
public enum WireType: UInt8, Sendable {
    case varint = 0
    case i64 = 1
    case len = 2
    case i32 = 5
}

/// Where protobuf fields go. Encoders are written once against this protocol and run twice:
/// into a `ProtobufSizer` (lengths of every nested message, in pre-order), then into a
/// `ProtobufWriter` that writes each length before its body without copying or backpatching.
public protocol ProtobufSink {
    mutating func varintField(_ field: Int, _ value: UInt64)
    mutating func fixed32Field(_ field: Int, _ value: UInt32)
    mutating func fixed64Field(_ field: Int, _ value: UInt64)
    mutating func bytesField(_ field: Int, _ value: [UInt8])
    mutating func stringField(_ field: Int, _ value: String)
    /// 8 or 16 id bytes, big-endian, as `bytes` (trace and span ids) without allocating.
    mutating func idField(_ field: Int, high: UInt64?, low: UInt64)
    mutating func packedFixed64Field(_ field: Int, _ values: [UInt64])
    mutating func packedDoubleField(_ field: Int, _ values: [Double])
    mutating func packedVarintField(_ field: Int, _ values: [UInt64])
    mutating func messageField(_ field: Int, _ body: (inout Self) -> Void)
}

extension ProtobufSink {
    public mutating func int64Field(_ field: Int, _ value: Int64) { varintField(field, UInt64(bitPattern: value)) }
    /// int32 negatives are sign-extended to 10 varint bytes, like int64.
    public mutating func int32Field(_ field: Int, _ value: Int32) { varintField(field, UInt64(bitPattern: Int64(value))) }
    public mutating func uint32Field(_ field: Int, _ value: UInt32) { varintField(field, UInt64(value)) }
    public mutating func boolField(_ field: Int, _ value: Bool) { varintField(field, value ? 1 : 0) }
    public mutating func sint32Field(_ field: Int, _ value: Int32) { varintField(field, UInt64(ZigZag.encode(value))) }
    public mutating func sint64Field(_ field: Int, _ value: Int64) { varintField(field, ZigZag.encode(value)) }
    public mutating func doubleField(_ field: Int, _ value: Double) { fixed64Field(field, value.bitPattern) }
    public mutating func sfixed64Field(_ field: Int, _ value: Int64) { fixed64Field(field, UInt64(bitPattern: value)) }
}

public enum ZigZag {
    public static func encode(_ n: Int32) -> UInt32 { UInt32(bitPattern: (n << 1) ^ (n >> 31)) }
    public static func encode(_ n: Int64) -> UInt64 { UInt64(bitPattern: (n << 1) ^ (n >> 63)) }
    public static func decode(_ n: UInt32) -> Int32 { Int32(bitPattern: n >> 1) ^ -Int32(bitPattern: n & 1) }
    public static func decode(_ n: UInt64) -> Int64 { Int64(bitPattern: n >> 1) ^ -Int64(bitPattern: n & 1) }
}

/// Encodes itself as one protobuf message body.
public protocol ProtobufEncodable {
    func encode<S: ProtobufSink>(into sink: inout S)
}

extension ProtobufEncodable {
    /// Two passes: size everything, then write once into an exactly sized buffer.
    public func serializedBytes() -> [UInt8] {
        var sizer = ProtobufSizer()
        encode(into: &sizer)
        var writer = ProtobufWriter(nestedSizes: sizer.nestedSizes, capacity: sizer.total)
        encode(into: &writer)
        assert(writer.bytes.count == sizer.total)
        return writer.bytes
    }

    /// The encoded size, without writing.
    public func serializedSize() -> Int {
        var sizer = ProtobufSizer()
        encode(into: &sizer)
        return sizer.total
    }
}

/// First pass: the total size, and the body length of every nested message in pre-order.
public struct ProtobufSizer: ProtobufSink {
    public private(set) var total = 0
    public private(set) var nestedSizes: [Int] = []

    public init() {}

    @inline(__always) static func varintSize(_ v: UInt64) -> Int {
        // 1 byte per started group of 7 bits; 0 takes one byte.
        (63 - (v | 1).leadingZeroBitCount) / 7 + 1
    }

    @inline(__always) static func tagSize(_ field: Int) -> Int { varintSize(UInt64(field) << 3) }

    public mutating func varintField(_ field: Int, _ value: UInt64) { total += Self.tagSize(field) + Self.varintSize(value) }
    public mutating func fixed32Field(_ field: Int, _ value: UInt32) { total += Self.tagSize(field) + 4 }
    public mutating func fixed64Field(_ field: Int, _ value: UInt64) { total += Self.tagSize(field) + 8 }
    public mutating func bytesField(_ field: Int, _ value: [UInt8]) { addLen(field, value.count) }
    public mutating func stringField(_ field: Int, _ value: String) { addLen(field, value.utf8.count) }
    public mutating func idField(_ field: Int, high: UInt64?, low: UInt64) { addLen(field, high == nil ? 8 : 16) }
    public mutating func packedFixed64Field(_ field: Int, _ values: [UInt64]) { if !values.isEmpty { addLen(field, 8 * values.count) } }
    public mutating func packedDoubleField(_ field: Int, _ values: [Double]) { if !values.isEmpty { addLen(field, 8 * values.count) } }
    public mutating func packedVarintField(_ field: Int, _ values: [UInt64]) {
        if !values.isEmpty { addLen(field, values.reduce(0) { $0 + Self.varintSize($1) }) }
    }

    public mutating func messageField(_ field: Int, _ body: (inout ProtobufSizer) -> Void) {
        let slot = nestedSizes.count
        nestedSizes.append(0)
        let start = total
        body(&self)
        let length = total - start
        nestedSizes[slot] = length
        total += Self.tagSize(field) + Self.varintSize(UInt64(length))
    }

    @inline(__always) private mutating func addLen(_ field: Int, _ length: Int) {
        total += Self.tagSize(field) + Self.varintSize(UInt64(length)) + length
    }
}

/// Second pass: protobuf bytes. Nested message lengths come from a `ProtobufSizer` run over the
/// same encoder; the raw `write*` methods need no sizes.
public struct ProtobufWriter: ProtobufSink {
    public private(set) var bytes: [UInt8]
    private let nestedSizes: [Int]
    private var nextNested = 0

    public init(nestedSizes: [Int] = [], capacity: Int = 0) {
        self.nestedSizes = nestedSizes
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: raw values

    @inline(__always) public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always) public mutating func writeTag(_ field: Int, _ type: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    @inline(__always) public mutating func writeFixed32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) public mutating func writeFixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeDouble(_ value: Double) { writeFixed64(value.bitPattern) }

    public mutating func writeLengthDelimited(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    @inline(__always) mutating func writeBigEndian(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    // MARK: fields

    public mutating func varintField(_ field: Int, _ value: UInt64) {
        writeTag(field, .varint)
        writeVarint(value)
    }

    public mutating func fixed32Field(_ field: Int, _ value: UInt32) {
        writeTag(field, .i32)
        writeFixed32(value)
    }

    public mutating func fixed64Field(_ field: Int, _ value: UInt64) {
        writeTag(field, .i64)
        writeFixed64(value)
    }

    public mutating func bytesField(_ field: Int, _ value: [UInt8]) {
        writeTag(field, .len)
        writeLengthDelimited(value)
    }

    public mutating func stringField(_ field: Int, _ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeTag(field, .len)
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func idField(_ field: Int, high: UInt64?, low: UInt64) {
        writeTag(field, .len)
        if let high {
            writeVarint(16)
            writeBigEndian(high)
        } else {
            writeVarint(8)
        }
        writeBigEndian(low)
    }

    public mutating func packedFixed64Field(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        writeTag(field, .len)
        writeVarint(UInt64(8 * values.count))
        for v in values { writeFixed64(v) }
    }

    public mutating func packedDoubleField(_ field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        writeTag(field, .len)
        writeVarint(UInt64(8 * values.count))
        for v in values { writeFixed64(v.bitPattern) }
    }

    public mutating func packedVarintField(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        writeTag(field, .len)
        writeVarint(UInt64(values.reduce(0) { $0 + ProtobufSizer.varintSize($1) }))
        for v in values { writeVarint(v) }
    }

    public mutating func messageField(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        precondition(nextNested < nestedSizes.count, "ProtobufWriter: nested message without a size; run ProtobufSizer first")
        let length = nestedSizes[nextNested]
        nextNested += 1
        writeTag(field, .len)
        writeVarint(UInt64(length))
        body(&self)
    }
}
