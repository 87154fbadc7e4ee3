package struct ProtobufDecodingError: Error, Equatable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// Just enough of a protobuf reader for response bodies: fields in order, unknown ones skipped
/// by wire type.
package struct ProtobufReader {
    private let bytes: [UInt8]
    private var offset: Int
    private let end: Int

    package init(_ bytes: [UInt8]) { self.init(bytes, range: 0..<bytes.count) }

    private init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
    }

    package enum Value {
        case varint(UInt64)
        case i64(UInt64)
        case i32(UInt32)
        case len(ArraySlice<UInt8>)

        package var uint64: UInt64? { if case .varint(let v) = self { return v } else { return nil } }
        package var string: String? {
            if case .len(let b) = self { return String(decoding: b, as: UTF8.self) } else { return nil }
        }
        package var message: ProtobufReader? {
            if case .len(let b) = self { return ProtobufReader(Array(b)) } else { return nil }
        }
    }

    /// The next (field number, value), or nil at the end.
    package mutating func next() throws -> (field: Int, value: Value)? {
        guard offset < end else { return nil }
        let key = try readVarint()
        let field = Int(key >> 3)
        guard field > 0 else { throw ProtobufDecodingError("field number 0") }
        switch key & 7 {
        case 0: return (field, .varint(try readVarint()))
        case 1: return (field, .i64(try readFixed(8)))
        case 5: return (field, .i32(UInt32(try readFixed(4))))
        case 2:
            let length = try readVarint()
            guard length <= UInt64(end - offset) else { throw ProtobufDecodingError("length past the end") }
            let slice = bytes[offset..<offset + Int(length)]
            offset += Int(length)
            return (field, .len(slice))
        case 3, 4: throw ProtobufDecodingError("groups are not supported")
        default: throw ProtobufDecodingError("unknown wire type \(key & 7)")
        }
    }

    private mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < end, shift < 64 {
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
        throw ProtobufDecodingError("truncated varint")
    }

    private mutating func readFixed(_ count: Int) throws -> UInt64 {
        guard end - offset >= count else { throw ProtobufDecodingError("truncated fixed field") }
        var v: UInt64 = 0
        for i in (0..<count).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += count
        return v
    }
}
