#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Protobuf wire types (§7.1 of the OTLP reference).
package enum WireType: UInt8, Sendable {
    case varint = 0
    case i64 = 1
    case len = 2
    case i32 = 5
}

package enum ZigZag {
    package static func encode(_ n: Int32) -> UInt32 { UInt32(bitPattern: (n << 1) ^ (n >> 31)) }
    package static func encode(_ n: Int64) -> UInt64 { UInt64(bitPattern: (n << 1) ^ (n >> 63)) }
    package static func decode(_ n: UInt32) -> Int32 { Int32(bitPattern: n >> 1) ^ -Int32(bitPattern: n & 1) }
    package static func decode(_ n: UInt64) -> Int64 { Int64(bitPattern: n >> 1) ^ -Int64(bitPattern: n & 1) }
}

/// Encodes itself as one protobuf message body.
package protocol ProtobufEncodable {
    func encode(into writer: inout ProtobufWriter)
}

extension ProtobufEncodable {
    package func serializedBytes() -> [UInt8] { ProtobufScratch().withEncoded(self) { Array($0) } }
}

/// Memory for encoding, kept between requests so a batch reuses pages instead of faulting in
/// fresh ones. Not thread-safe: one per exporter, used under its export gate.
package final class ProtobufScratch {
    private var base: UnsafeMutablePointer<UInt8>?
    private var capacity = 0

    package init() {}
    deinit { free(base) }

    /// Frees the memory if it grew past `limit` bytes: a rare large request (a metrics snapshot of
    /// a big fleet) should not keep its buffer for good.
    package func release(ifOver limit: Int) {
        guard capacity > limit else { return }
        free(base)
        (base, capacity) = (nil, 0)
    }

    /// Encodes `message` and hands its bytes to `use`; they are valid only inside `use`.
    package func withEncoded<M: ProtobufEncodable, R>(_ message: M, _ use: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var writer = ProtobufWriter(base: base, capacity: capacity)
        message.encode(into: &writer)
        (base, capacity) = (writer.base, writer.capacity)
        return try use(UnsafeRawBufferPointer(start: base, count: writer.count))
    }
}

/// Protobuf bytes in one pass. A nested message gets one length byte up front; a body of 128 bytes
/// or more is moved up by the extra length bytes once it is complete (a span, a batch), which
/// costs far less than sizing every message in a separate pass.
package struct ProtobufWriter {
    fileprivate private(set) var base: UnsafeMutablePointer<UInt8>?
    fileprivate private(set) var capacity: Int
    package private(set) var count = 0

    fileprivate init(base: UnsafeMutablePointer<UInt8>?, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Runs `body` with a fresh writer and returns what it wrote.
    package static func bytes(_ body: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var writer = ProtobufWriter(base: nil, capacity: 0)
        body(&writer)
        defer { free(writer.base) }
        return Array(UnsafeBufferPointer(start: writer.base, count: writer.count))
    }

    @inline(__always) static func varintSize(_ v: UInt64) -> Int {
        // 1 byte per started group of 7 bits; 0 takes one byte.
        (63 - (v | 1).leadingZeroBitCount) / 7 + 1
    }

    @inline(__always) private mutating func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if count + n > capacity { grow(to: count + n) }
        defer { count += n }
        return base.unsafelyUnwrapped + count
    }

    @inline(never) private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2, 4096)
        guard let grown = realloc(base, newCapacity) else { fatalError("ProtobufWriter: out of memory (\(newCapacity) bytes)") }
        base = grown.assumingMemoryBound(to: UInt8.self)
        capacity = newCapacity
    }

    // MARK: raw values

    @inline(__always) package mutating func writeVarint(_ value: UInt64) {
        Self.store(value, at: reserve(Self.varintSize(value)))
    }

    @inline(__always) private static func store(_ value: UInt64, at p: UnsafeMutablePointer<UInt8>) {
        var v = value
        var i = 0
        while v >= 0x80 {
            p[i] = UInt8(truncatingIfNeeded: v) | 0x80
            v >>= 7
            i += 1
        }
        p[i] = UInt8(v)
    }

    @inline(__always) package mutating func writeTag(_ field: Int, _ type: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    @inline(__always) package mutating func writeFixed32(_ value: UInt32) {
        UnsafeMutableRawPointer(reserve(4)).storeBytes(of: value.littleEndian, as: UInt32.self)
    }

    @inline(__always) package mutating func writeFixed64(_ value: UInt64) {
        UnsafeMutableRawPointer(reserve(8)).storeBytes(of: value.littleEndian, as: UInt64.self)
    }

    @inline(__always) package mutating func writeRaw(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count).update(from: source, count: bytes.count)
    }

    @inline(__always) mutating func writeBigEndian(_ value: UInt64) {
        UnsafeMutableRawPointer(reserve(8)).storeBytes(of: value.bigEndian, as: UInt64.self)
    }

    // MARK: fields

    package mutating func int64Field(_ field: Int, _ value: Int64) { varintField(field, UInt64(bitPattern: value)) }
    /// int32 negatives are sign-extended to 10 varint bytes, like int64.
    package mutating func int32Field(_ field: Int, _ value: Int32) { varintField(field, UInt64(bitPattern: Int64(value))) }
    package mutating func uint32Field(_ field: Int, _ value: UInt32) { varintField(field, UInt64(value)) }
    package mutating func boolField(_ field: Int, _ value: Bool) { varintField(field, value ? 1 : 0) }
    package mutating func sint32Field(_ field: Int, _ value: Int32) { varintField(field, UInt64(ZigZag.encode(value))) }
    package mutating func sint64Field(_ field: Int, _ value: Int64) { varintField(field, ZigZag.encode(value)) }
    package mutating func doubleField(_ field: Int, _ value: Double) { fixed64Field(field, value.bitPattern) }
    package mutating func sfixed64Field(_ field: Int, _ value: Int64) { fixed64Field(field, UInt64(bitPattern: value)) }

    package mutating func varintField(_ field: Int, _ value: UInt64) {
        writeTag(field, .varint)
        writeVarint(value)
    }

    package mutating func fixed32Field(_ field: Int, _ value: UInt32) {
        writeTag(field, .i32)
        writeFixed32(value)
    }

    package mutating func fixed64Field(_ field: Int, _ value: UInt64) {
        writeTag(field, .i64)
        writeFixed64(value)
    }

    package mutating func bytesField(_ field: Int, _ value: [UInt8]) {
        writeTag(field, .len)
        writeVarint(UInt64(value.count))
        value.withUnsafeBufferPointer { writeRaw($0) }
    }

    package mutating func stringField(_ field: Int, _ value: String) {
        writeTag(field, .len)
        var value = value
        value.withUTF8 { utf8 in  // in place for native strings, including small ones
            writeVarint(UInt64(utf8.count))
            writeRaw(utf8)
        }
    }

    /// 8 or 16 id bytes, big-endian, as `bytes` (trace and span ids) without allocating.
    package mutating func idField(_ field: Int, high: UInt64?, low: UInt64) {
        writeTag(field, .len)
        if let high {
            writeVarint(16)
            writeBigEndian(high)
        } else {
            writeVarint(8)
        }
        writeBigEndian(low)
    }

    package mutating func packedFixed64Field(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        writeTag(field, .len)
        writeVarint(UInt64(8 * values.count))
        for v in values { writeFixed64(v) }
    }

    package mutating func packedDoubleField(_ field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        writeTag(field, .len)
        writeVarint(UInt64(8 * values.count))
        for v in values { writeFixed64(v.bitPattern) }
    }

    package mutating func packedVarintField(_ field: Int, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        writeTag(field, .len)
        writeVarint(UInt64(values.reduce(0) { $0 + Self.varintSize($1) }))
        for v in values { writeVarint(v) }
    }

    package mutating func messageField(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        writeTag(field, .len)
        let lengthAt = count
        _ = reserve(1)
        body(&self)
        let length = count - lengthAt - 1
        if length < 0x80 {
            base.unsafelyUnwrapped[lengthAt] = UInt8(length)
            return
        }
        let extra = Self.varintSize(UInt64(length)) - 1
        _ = reserve(extra)
        let start = base.unsafelyUnwrapped + lengthAt
        memmove(start + 1 + extra, start + 1, length)
        Self.store(UInt64(length), at: start)
    }
}
