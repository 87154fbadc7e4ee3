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
    /// A guess of how many nested messages it holds, so the size pass allocates once.
    var expectedNestedMessages: Int { get }
}

extension ProtobufEncodable {
    public var expectedNestedMessages: Int { 16 }

    /// Two passes: size everything, then write once into an exactly sized array.
    public func serializedBytes() -> [UInt8] { twoPassBytes(self) }
    /// The bytes if the message is at most `maxBytes`; the write pass runs only when it fits.
    public func serializedBytes(ifAtMost maxBytes: Int) -> [UInt8]? { twoPassBytes(self, ifAtMost: maxBytes) }
    /// The encoded size, without writing.
    public func serializedSize() -> Int { twoPassSize(self) }
}

@inline(__always) func twoPassSize<M: ProtobufEncodable>(_ message: M) -> Int {
    var sizer = ProtobufSizer(nestedCapacity: message.expectedNestedMessages)
    message.encode(into: &sizer)
    return sizer.total
}

@inline(__always) func twoPassBytes<M: ProtobufEncodable>(_ message: M, ifAtMost maxBytes: Int = .max) -> [UInt8]? {
    var sizer = ProtobufSizer(nestedCapacity: message.expectedNestedMessages)
    message.encode(into: &sizer)
    guard sizer.total <= maxBytes else { return nil }
    let bytes = ProtobufWriter.bytes(capacity: sizer.total, nestedSizes: sizer.nestedSizes) { message.encode(into: &$0) }
    assert(bytes.count == sizer.total)
    return bytes
}

@inline(__always) func twoPassBytes<M: ProtobufEncodable>(_ message: M) -> [UInt8] {
    twoPassBytes(message, ifAtMost: .max)!
}

/// First pass: the total size, and the body length of every nested message in pre-order.
public struct ProtobufSizer: ProtobufSink {
    public private(set) var total = 0
    public private(set) var nestedSizes: [Int] = []

    /// `nestedCapacity`: expected number of nested messages, to size the length list once.
    public init(nestedCapacity: Int = 0) { nestedSizes.reserveCapacity(nestedCapacity) }

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

/// Second pass: protobuf bytes, written straight into the memory of a new array of known
/// capacity. Nested message lengths come from a `ProtobufSizer` run over the same encoder; the raw
/// `write*` methods need no sizes.
public struct ProtobufWriter: ProtobufSink {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    public private(set) var count = 0
    private let nestedSizes: [Int]
    private var nextNested = 0

    private init(base: UnsafeMutablePointer<UInt8>, capacity: Int, nestedSizes: [Int]) {
        self.base = base
        self.capacity = capacity
        self.nestedSizes = nestedSizes
    }

    /// Runs `body` with a writer over a new array of `capacity` bytes; returns what was written.
    /// Writing past `capacity` traps.
    public static func bytes(capacity: Int, nestedSizes: [Int] = [], _ body: (inout ProtobufWriter) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            var writer = ProtobufWriter(base: base, capacity: capacity, nestedSizes: nestedSizes)
            body(&writer)
            initialized = writer.count
        }
    }

    @inline(__always) private mutating func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(count + n <= capacity, "ProtobufWriter: write past the sized capacity")
        defer { count += n }
        return base + count
    }

    // MARK: raw values

    @inline(__always) public mutating func writeVarint(_ value: UInt64) {
        let p = reserve(ProtobufSizer.varintSize(value))
        var v = value
        var i = 0
        while v >= 0x80 {
            p[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i += 1
        }
        p[i] = UInt8(v)
    }

    @inline(__always) public mutating func writeTag(_ field: Int, _ type: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    @inline(__always) public mutating func writeFixed32(_ value: UInt32) {
        UnsafeMutableRawPointer(reserve(4)).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    @inline(__always) public mutating func writeFixed64(_ value: UInt64) {
        UnsafeMutableRawPointer(reserve(8)).storeBytes(of: value.littleEndian, as: UInt64.self)
    }

    public mutating func writeDouble(_ value: Double) { writeFixed64(value.bitPattern) }

    @inline(__always) public mutating func writeRaw(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count).update(from: source, count: bytes.count)
    }

    public mutating func writeLengthDelimited(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        value.withUnsafeBufferPointer { writeRaw($0) }
    }

    @inline(__always) mutating func writeBigEndian(_ value: UInt64) {
        UnsafeMutableRawPointer(reserve(8)).storeBytes(of: value.bigEndian, as: UInt64.self)
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
        writeTag(field, .len)
        let utf8 = value.utf8
        writeVarint(UInt64(utf8.count))
        let done: Void? = utf8.withContiguousStorageIfAvailable { writeRaw($0) }
        if done == nil {
            let p = reserve(utf8.count)
            for (i, b) in utf8.enumerated() { p[i] = b }
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
