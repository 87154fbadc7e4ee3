import Foundation
import FuzzSupport
import OTLPExporter
import Tracing

/// The OTLP protobuf encoders on fuzzed spans and metrics: the bytes decode, with ProtobufReader,
/// to exactly what was encoded (scopes grouped, counts clamped to uint32, zero parents omitted).
/// With FUZZ_PROTOBUF_DUMP=DIR each request is also written there as `.pb` with our OTLP/JSON
/// beside it, for Tests/Fuzz/decode_protobuf_dump.py to decode with the official protos.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtobuf(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var generator = TelemetryGenerator(input: input)
    let resource = Resource(attributes: generator.attributes(depth: 1))
    let bytes: [UInt8], json: [UInt8], kind: String
    if generator.input.bool() {
        let spans = (0..<generator.input.int(1...3)).map { _ in generator.span() }
        bytes = TraceRequestProtobuf(spans: spans, resource: resource).serializedBytes()
        json = TraceRequestJSON.encode(spans: spans, resource: resource)
        kind = "traces"
        let decoded = decodeOrFail { try Decoded.traces(bytes) }
        let expected = Expected.traces(spans, resource)
        require(decoded == expected, "traces round trip:\n decoded  \(decoded)\n expected \(expected)")
    } else {
        let metrics = (0..<generator.input.int(1...3)).map { _ in generator.metric() }
        bytes = MetricsRequestProtobuf(metrics: metrics, resource: resource).serializedBytes()
        json = MetricsRequestJSON.encode(metrics: metrics, resource: resource)
        kind = "metrics"
        let decoded = decodeOrFail { try Decoded.metrics(bytes) }
        let expected = Expected.metrics(metrics, resource)
        require(decoded == expected, "metrics round trip:\n decoded  \(decoded)\n expected \(expected)")
    }
    if let dump = ProcessInfo.processInfo.environment["FUZZ_PROTOBUF_DUMP"] {
        input = FuzzInput(data, size)
        let name = "\(dump)/\(String(fnv1a(input.rest()), radix: 16)).\(kind)"
        FileManager.default.createFile(atPath: name + ".pb", contents: Data(bytes))
        FileManager.default.createFile(atPath: name + ".json", contents: Data(json))
    }
    return 0
}

private func decodeOrFail<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch {
        require(false, "our own bytes do not decode: \(error)")
        fatalError()
    }
}

private func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}

