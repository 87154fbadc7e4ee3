import Foundation
import Testing
import Tracing
@testable import OTLPExporter

@Suite struct JSONEncodingTests {
    func text(_ build: (inout JSONWriter) -> Void) -> String {
        var w = JSONWriter()
        build(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// What `/status` writes through `any`: nested dictionaries (keys sorted, run-time keys escaped),
    /// arrays, and every scalar kind.
    @Test func anyValue() throws {
        let value: [String: Any] = ["b": ["k\"ey": "v\nalue", "a": "x"], "a": [1, 2.5, true, "s"], "c": false, "d": 7]
        let written = text { $0.any(value) }
        #expect(written == #"{"a":[1,2.5,true,"s"],"b":{"a":"x","k\"ey":"v\nalue"},"c":false,"d":7}"#)
        let parsed = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any]
        #expect((parsed?["b"] as? [String: String])?["k\"ey"] == "v\nalue")
    }

    @Test func scalars() {
        #expect(text { $0.string("a\"b\\c\n\t\u{01}é") } == #""a\"b\\c\n\t\u0001é""#)
        #expect(text { $0.double(.nan) } == #""NaN""#)
        #expect(text { $0.double(.infinity) } == #""Infinity""#)
        #expect(text { $0.double(-.infinity) } == #""-Infinity""#)
        #expect(text { $0.double(2) } == "2")
        #expect(text { $0.double(0.1) } == "0.1")
        #expect(text { $0.double(1e-7) } == "1e-07")
        #expect(text { $0.int64String(-9_223_372_036_854_775_808) } == #""-9223372036854775808""#)
        #expect(text { $0.uint64String(.max) } == #""18446744073709551615""#)
        #expect(text { $0.hex(0x5b8e_fff7_9803_8103, 0xd269_b633_813f_c60c) } == #""5b8efff798038103d269b633813fc60c""#)
    }

    @Test(arguments: [
        ([UInt8](), ""), ([0x66], "Zg=="), ([0x66, 0x6f], "Zm8="), ([0x66, 0x6f, 0x6f], "Zm9v"),
        ([0x00, 0x01, 0xfe, 0xff], "AAH+/w=="),
    ] as [([UInt8], String)])
    func base64(bytes: [UInt8], expected: String) {
        #expect(text { $0.base64(bytes) } == "\"\(expected)\"")
        #expect(expected == Data(bytes).base64EncodedString())
    }

    @Test func commasAndNesting() {
        let json = text { w in
            w.beginObject()
            w.key("a"); w.int(1)
            w.array("b") { list in list.int(1); list.beginObject(); list.endObject(); list.bool(false) }
            w.object("c") { _ in }
            w.endObject()
        }
        #expect(json == #"{"a":1,"b":[1,{},false],"c":{}}"#)
    }

    /// Shape of the spec's examples/trace.json: hex ids, integer kind, int64 strings, lowerCamelCase.
    @Test func traceRequestMatchesTheSpecExample() throws {
        let span = SpanData(
            context: SpanContext(traceID: TraceID(hex: "5B8EFFF798038103D269B633813FC60C")!, spanID: SpanID(hex: "EEE19B7EC3C1B174")!),
            parentSpanID: SpanID(hex: "EEE19B7EC3C1B173"), name: "I'm a server span", kind: .server,
            startTimeUnixNano: 1_544_712_660_000_000_000, endTimeUnixNano: 1_544_712_661_000_000_000,
            attributes: [Attribute("my.span.attr", "some value")],
            scope: InstrumentationScope(name: "my.library", version: "1.0.0"), parentIsRemote: false)
        let json = TraceRequestJSON.encode(spans: [span], resource: Resource(attributes: [Attribute("service.name", "my.service")]))
        #expect(canon(try JSONSerialization.jsonObject(with: Data(json))) == canon(json: """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
             "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0"},
              "spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173",
               "flags":257,"name":"I'm a server span","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
               "kind":2,"attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}}]}]}]}]}
            """))
    }

    /// Found by the protobuf fuzz target's official-proto step: counts past UInt32.max were written
    /// whole, which no OTLP/JSON reader accepts for a uint32 field (protobuf clamped them already).
    @Test func droppedCountsAreClampedToUInt32() throws {
        var span = Sample.span("s")
        (span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount) = (.max, 1 << 40, 7)
        let json = String(decoding: TraceRequestJSON.encode(spans: [span], resource: Resource()), as: UTF8.self)
        #expect(json.contains(#""droppedAttributesCount":4294967295"#))
        #expect(json.contains(#""droppedEventsCount":4294967295"#))
        #expect(json.contains(#""droppedLinksCount":7"#))
    }

    @Test func emptyBatchIsAnEmptyRequest() {
        #expect(TraceRequestJSON.encode(spans: [], resource: Resource()) == Array("{}".utf8))
        #expect(TraceRequestProtobuf(spans: [], resource: Resource()).serializedBytes() == [])
    }

    @Test func specialDoublesInMetrics() throws {
        let metric = MetricData(name: "g", scope: InstrumentationScope(name: "probe-agent"), points: .gauge([
            NumberDataPoint(attributes: [], startTimeUnixNano: 0, timeUnixNano: 1, value: .double(.nan)),
            NumberDataPoint(attributes: [], startTimeUnixNano: 0, timeUnixNano: 1, value: .double(-.infinity)),
        ]))
        let text = String(decoding: MetricsRequestJSON.encode(metrics: [metric], resource: Resource()), as: UTF8.self)
        #expect(text.contains(#""asDouble":"NaN""#) && text.contains(#""asDouble":"-Infinity""#))
    }

    @Test func fileExporterWritesOneRequestPerLine() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let exporter = try OTLPFileExporter(path: path, resource: OTLPResource.make(serviceName: "demo"))
        #expect(await exporter.export(Sample.spans(2)) == .success)
        #expect(await exporter.export(ConformanceTests.metrics) == .success)
        #expect(await exporter.export([SpanData]()) == .success)
        await exporter.shutdown(deadline: .now + .seconds(1))
        #expect(await exporter.export(Sample.spans(1)) == .failure)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        let second = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        #expect(first?["resourceSpans"] != nil && second?["resourceMetrics"] != nil)
        #expect(lines[0].contains(#""service.name","value":{"stringValue":"demo"}"#))
    }
}
