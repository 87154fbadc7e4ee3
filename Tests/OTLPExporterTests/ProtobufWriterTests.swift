import Testing
import Tracing
@testable import OTLPExporter

func written(_ body: (inout ProtobufWriter) -> Void) -> [UInt8] {
    ProtobufWriter.bytes(body)
}

func varintBytes(_ v: UInt64) -> [UInt8] { written { $0.writeVarint(v) } }

@Suite struct ProtobufWriterTests {
    @Test(arguments: [
        (UInt64(0), [0x00]),
        (1, [0x01]),
        (127, [0x7f]),
        (128, [0x80, 0x01]),
        (300, [0xac, 0x02]),
        (16_384, [0x80, 0x80, 0x01]),
        (UInt64.max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ] as [(UInt64, [UInt8])])
    func varints(value: UInt64, expected: [UInt8]) {
        #expect(varintBytes(value) == expected)
        #expect(ProtobufWriter.varintSize(value) == expected.count)
    }

    @Test func negativeInt64IsTenBytes() {
        let w = written { $0.int64Field(3, -1) }
        #expect(w == [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        let w2 = written { $0.int32Field(1, -2) }
        #expect(w2.count == 11)
    }

    @Test func zigzag() {
        #expect(ZigZag.encode(Int32(0)) == 0)
        #expect(ZigZag.encode(Int32(-1)) == 1)
        #expect(ZigZag.encode(Int32(1)) == 2)
        #expect(ZigZag.encode(Int32(-2)) == 3)
        #expect(ZigZag.encode(Int32.max) == 0xffff_fffe)
        #expect(ZigZag.encode(Int32.min) == 0xffff_ffff)
        #expect(ZigZag.encode(Int64.min) == UInt64.max)
        #expect(ZigZag.decode(UInt64(3)) == -2)
        let w = written { $0.sint32Field(6, -3) }
        #expect(w == [0x30, 0x05])
        let w2 = written { $0.sint64Field(1, -64) }
        #expect(w2 == [0x08, 0x7f])
    }

    @Test func fixedAndDouble() {
        let w = written { $0.fixed32Field(16, 0x0000_0301) }
        #expect(w == [0x85, 0x01, 0x01, 0x03, 0x00, 0x00])
        let w2 = written { $0.fixed64Field(7, 1_544_712_660_000_000_000) }
        #expect(w2 == [0x39, 0x00, 0x48, 0x59, 0xe3, 0xfa, 0xeb, 0x6f, 0x15])  // 0x156febfae3594800 LE
        let w3 = written { $0.doubleField(4, 1.5) }
        #expect(w3 == [0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f])
        let w4 = written { $0.sfixed64Field(6, -1) }
        #expect(w4 == [0x31] + [UInt8](repeating: 0xff, count: 8))
    }

    @Test func lengthDelimitedAndUTF8() {
        let w = written { $0.stringField(1, "héllo") }
        #expect(w == [0x0a, 0x06, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f])
        let w2 = written { $0.bytesField(7, [0x00, 0xff]) }
        #expect(w2 == [0x3a, 0x02, 0x00, 0xff])
        let w3 = written { $0.stringField(2, String(repeating: "a", count: 200)) }
        #expect(Array(w3.prefix(3)) == [0x12, 0xc8, 0x01])
        #expect(w3.count == 203)
    }

    @Test func packed() {
        let w = written { $0.packedFixed64Field(6, [1, 2]) }
        #expect(w == [0x32, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
        let w2 = written { $0.packedVarintField(2, [1, 300]) }
        #expect(w2 == [0x12, 0x03, 0x01, 0xac, 0x02])
        let w3 = written { $0.packedDoubleField(7, []) }
        #expect(w3.isEmpty)
    }

    /// Nested lengths are patched in once a body is complete: an empty sub-message is `tag 00`, a
    /// long body gets a two-byte length (moved up in place), and three levels nest correctly.
    @Test func nestedMessages() {
        struct Nested: ProtobufEncodable {
            func encode(into s: inout ProtobufWriter) {
                s.messageField(1) { _ in }
                s.messageField(2) { a in
                    a.varintField(1, 150)
                    a.messageField(3) { b in
                        b.stringField(1, String(repeating: "z", count: 130))
                    }
                }
            }
        }
        let bytes = Nested().serializedBytes()
        let inner: [UInt8] = [0x0a, 0x82, 0x01] + [UInt8](repeating: 0x7a, count: 130)  // 133 bytes
        let middle: [UInt8] = [0x08, 0x96, 0x01, 0x1a, 0x85, 0x01] + inner  // 139 bytes
        #expect(bytes == [0x0a, 0x00, 0x12, 0x8b, 0x01] + middle)
    }

    /// A body past the writer's first growth and needing a three-byte length, nested twice: both
    /// lengths are patched and the bytes moved up intact.
    @Test func largeNestedBodiesAreMovedUpIntact() {
        let text = String((0..<20_000).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
        let bytes = ProtobufWriter.bytes { w in
            w.messageField(1) { outer in outer.messageField(2) { $0.stringField(3, text) } }
        }
        let inner: [UInt8] = [0x1a, 0xa0, 0x9c, 0x01] + Array(text.utf8)  // 20,000 = 0xa0 0x9c 0x01
        let middle: [UInt8] = [0x12, 0xa4, 0x9c, 0x01] + inner  // 20,004
        #expect(bytes == [0x0a, 0xa8, 0x9c, 0x01] + middle)  // 20,008
    }

    /// Found by the protobuf fuzz target's official-proto step: an unset status with a message (set
    /// directly) was written as an empty Status, where OTLP/JSON writes none.
    @Test func anUnsetStatusIsNotWritten() {
        var withMessage = Sample.span("s")
        withMessage.status.message = "ignored unless the code is error"
        #expect(TraceRequestProtobuf(spans: [withMessage], resource: Resource()).serializedBytes()
            == TraceRequestProtobuf(spans: [Sample.span("s")], resource: Resource()).serializedBytes())
    }

    @Test func readerSkipsUnknownFields() throws {
        // field 9 varint, field 10 fixed64, field 11 fixed32, then partial_success{rejected 5, message "no"}
        let body: [UInt8] = [0x48, 0x01, 0x51] + [UInt8](repeating: 0, count: 8) + [0x5d, 0, 0, 0, 0]
            + [0x0a, 0x06, 0x08, 0x05, 0x12, 0x02, 0x6e, 0x6f]
        let partial = try ExportResponseDecoder.partialSuccess(body: body, contentType: "application/x-protobuf")
        #expect(partial == PartialSuccess(rejected: 5, errorMessage: "no"))
        #expect(try ExportResponseDecoder.partialSuccess(body: [0x0a, 0x00], contentType: nil) == nil)
        #expect(throws: ProtobufDecodingError.self) {
            _ = try ExportResponseDecoder.partialSuccess(body: [0x0a, 0x05, 0x08], contentType: nil)
        }
    }

    @Test func responseDecodingByContentType() throws {
        let json = Array(#"{"partialSuccess":{"rejectedDataPoints":"7","errorMessage":"bad points"}}"#.utf8)
        #expect(try ExportResponseDecoder.partialSuccess(body: json, contentType: "application/json; charset=utf-8")
                == PartialSuccess(rejected: 7, errorMessage: "bad points"))
        #expect(try ExportResponseDecoder.partialSuccess(body: Array("{}".utf8), contentType: "application/json") == nil)
        let status: [UInt8] = [0x08, 0x03, 0x12, 0x04] + Array("oops".utf8) + [0x1a, 0x02, 0x0a, 0x00]
        #expect(ExportResponseDecoder.statusMessage(body: status, contentType: "application/x-protobuf") == "oops")
        #expect(ExportResponseDecoder.statusMessage(body: Array(#"{"code":3,"message":"bad id"}"#.utf8),
                                                    contentType: "application/json") == "bad id")
        #expect(ExportResponseDecoder.statusMessage(body: [], contentType: nil) == nil)
    }

    @Test func gzipRoundTripIsRealGzip() throws {
        let input = Array(String(repeating: "otlp span ", count: 1000).utf8)
        let compressed = try Gzip.compress(input)
        #expect(Array(compressed.prefix(3)) == [0x1f, 0x8b, 0x08])  // gzip magic + deflate
        #expect(compressed.count < input.count / 10)
        #expect(try Gzip.decompress(compressed) == input)
        #expect(throws: GzipError.self) { _ = try Gzip.decompress(compressed, limit: 100) }
        #expect(try Gzip.decompress(try Gzip.compress([])) == [])
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }  // incompressible
        let compressor = GzipCompressor()  // reused across calls, as in the exporter
        for input in [noise, input, noise] { #expect(try Gzip.decompress(try compressor.compress(input)) == input) }
    }
}
