import Foundation
import HTTPClient
import Testing
import Tracing
@testable import OTLPExporter

/// Encodes through the real exporter, POSTs to the Python receiver, which decodes with the official
/// opentelemetry-proto classes; every field is then compared with what was sent.
@Suite struct ConformanceTests {
    static let variants: [(OTLPProtocol, OTLPCompression)] = [
        (.httpProtobuf, .none), (.httpProtobuf, .gzip), (.httpJSON, .none), (.httpJSON, .gzip),
    ]

    static let resource = OTLPResource.make(serviceName: "conformance", attributes: [Attribute("deployment.environment", "test")])
    static let t0: UInt64 = 1_700_000_000_123_456_789

    static let allTypes: [Attribute] = [
        Attribute("s.string", "héllo wörld ✓ \"quoted\"\n"),
        Attribute("s.empty", ""),
        Attribute("s.bool", false),
        Attribute("s.int0", .int(Int64(0))),
        Attribute("s.intneg", .int(Int64(-42))),
        Attribute("s.intmax", .int(Int64.max)),
        Attribute("s.double0", .double(0.0)),
        Attribute("s.double", .double(3.25)),
        Attribute("s.bytes", .bytes([0, 1, 254, 255])),
        Attribute("s.array", .array(["a", .int(Int64(1)), true, .double(2.5)])),
        Attribute("s.map", .map([Attribute("inner", "v"), Attribute("nested", .map([Attribute("deep", .int(Int64(-1)))]))])),
    ]

    static var spans: [SpanData] {
        let root = SpanData(
            context: SpanContext(traceID: Sample.traceID, spanID: SpanID(0xeee1_9b7e_c3c1_b174), traceFlags: .sampled,
                                 traceState: "vendor=1"),
            name: "root-server", kind: .server, startTimeUnixNano: t0, endTimeUnixNano: t0 + 1_000_000,
            attributes: allTypes, droppedAttributesCount: 3,
            events: [SpanEvent(name: "evt", timeUnixNano: t0 + 10, attributes: [Attribute("e.k", "v")], droppedAttributesCount: 2)],
            droppedEventsCount: 1, status: .ok, scope: InstrumentationScope(name: "probe-agent", version: "0.1.0"))
        let child = SpanData(
            context: SpanContext(traceID: Sample.traceID, spanID: SpanID(0xeee1_9b7e_c3c1_b175)),
            parentSpanID: root.context.spanID, name: "child-client", kind: .client,
            startTimeUnixNano: t0 + 100, endTimeUnixNano: t0 + 900,
            links: [SpanLink(SpanContext(traceID: Sample.otherTraceID, spanID: SpanID(0x77), traceFlags: .sampled,
                                         traceState: "a=b", isRemote: true),
                             attributes: [Attribute("l.k", .int(Int64(7)))], droppedAttributesCount: 1)],
            droppedLinksCount: 2, status: .error("boom"),
            scope: InstrumentationScope(name: "probe-agent", version: "0.1.0"), parentIsRemote: false)
        let remoteChild = SpanData(
            context: SpanContext(traceID: Sample.otherTraceID, spanID: SpanID(0x42), traceFlags: []),
            parentSpanID: SpanID(0x9999), name: "remote-child", kind: .consumer,
            startTimeUnixNano: t0, endTimeUnixNano: t0 + 5,
            scope: InstrumentationScope(name: "other-lib", version: "2.0"), parentIsRemote: true)
        let plain = SpanData(
            context: SpanContext(traceID: Sample.traceID, spanID: SpanID(0x43)), name: "producer",
            kind: .producer, startTimeUnixNano: t0, endTimeUnixNano: t0,
            scope: InstrumentationScope(name: "probe-agent", version: "0.1.0"))
        return [root, child, remoteChild, plain]
    }

    @Test(arguments: variants)
    func traces(proto: OTLPProtocol, compression: OTLPCompression) async throws {
        let receiver = try Receiver()
        var c = config(.traces, endpoint: receiver.tracesURL, protocol: proto, compression: compression)
        c.resource = Self.resource
        c.headers = [HTTPHeader("x-tenant", "blue")]
        let exporter = OTLPHTTPSpanExporter(config: c)
        #expect(await exporter.export(Self.spans) == .success)
        #expect(exporter.stats.exported == 4)

        let records = try await receiver.received()
        try #require(records.count == 1)
        let record = records[0]
        #expect(record["error"] == nil, "receiver could not decode: \(record["error"] ?? "")")
        let headers = record["headers"] as? [String: String] ?? [:]
        #expect(headers["content-type"] == proto.contentType)
        #expect(headers["content-encoding"] == (compression == .gzip ? "gzip" : nil))
        #expect(headers["user-agent"] == "probe-agent/\(OTLPResource.sdkVersion) (OTLP-Exporter-Swift)")
        #expect(headers["x-tenant"] == "blue")

        let decoded = try #require(record["decoded"] as? [String: Any])
        let resourceSpans = try #require(decoded["resourceSpans"] as? [[String: Any]])
        try #require(resourceSpans.count == 1)
        let resource = resourceSpans[0]["resource"] as? [String: Any]
        #expect(canon(resource?["attributes"]) == canon(json: """
            [{"key":"service.name","value":{"stringValue":"conformance"}},
             {"key":"deployment.environment","value":{"stringValue":"test"}},
             {"key":"telemetry.sdk.name","value":{"stringValue":"probe-agent"}},
             {"key":"telemetry.sdk.language","value":{"stringValue":"swift"}},
             {"key":"telemetry.sdk.version","value":{"stringValue":"\(OTLPResource.sdkVersion)"}}]
            """))

        let scopes = try #require(resourceSpans[0]["scopeSpans"] as? [[String: Any]])
        #expect(scopes.map { canon($0["scope"]) } == [
            canon(json: #"{"name":"probe-agent","version":"0.1.0"}"#), canon(json: #"{"name":"other-lib","version":"2.0"}"#),
        ])
        #expect(scopes.map { ($0["spans"] as? [[String: Any]])?.count ?? 0 } == [3, 1])
        var byName: [String: [String: Any]] = [:]
        for scope in scopes { for span in scope["spans"] as? [[String: Any]] ?? [] { byName[span["name"] as? String ?? ""] = span } }

        let root = try #require(byName["root-server"])
        #expect(root["traceId"] as? String == "5b8efff798038103d269b633813fc60c")
        #expect(root["spanId"] as? String == "eee19b7ec3c1b174")
        #expect(root["parentSpanId"] == nil)
        #expect(root["traceState"] as? String == "vendor=1")
        #expect(root["kind"] as? Int == 2)
        #expect(root["flags"] as? Int == 0x101)
        #expect(root["startTimeUnixNano"] as? String == "\(Self.t0)")
        #expect(root["endTimeUnixNano"] as? String == "\(Self.t0 + 1_000_000)")
        #expect(root["droppedAttributesCount"] as? Int == 3)
        #expect(root["droppedEventsCount"] as? Int == 1)
        #expect(canon(root["status"]) == canon(json: #"{"code":1}"#))
        let attributes = Dictionary(uniqueKeysWithValues: (root["attributes"] as? [[String: Any]] ?? []).map {
            ($0["key"] as? String ?? "", canon($0["value"]))
        })
        let expectedValues: [String: String] = [
            "s.string": #"{"stringValue":"héllo wörld ✓ \"quoted\"\n"}"#,
            "s.empty": #"{"stringValue":""}"#,
            "s.bool": #"{"boolValue":false}"#,
            "s.int0": #"{"intValue":"0"}"#,
            "s.intneg": #"{"intValue":"-42"}"#,
            "s.intmax": #"{"intValue":"9223372036854775807"}"#,
            "s.double0": #"{"doubleValue":0.0}"#,
            "s.double": #"{"doubleValue":3.25}"#,
            "s.bytes": #"{"bytesValue":"AAH+/w=="}"#,
            "s.array": #"{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"1"},{"boolValue":true},{"doubleValue":2.5}]}}"#,
            "s.map": #"{"kvlistValue":{"values":[{"key":"inner","value":{"stringValue":"v"}},{"key":"nested","value":{"kvlistValue":{"values":[{"key":"deep","value":{"intValue":"-1"}}]}}}]}}"#,
        ]
        #expect(attributes.count == expectedValues.count)
        for (key, json) in expectedValues {
            #expect(attributes[key] == canon(json: json), "attribute \(key)")
        }
        #expect(canon(root["events"]) == canon(json: """
            [{"timeUnixNano":"\(Self.t0 + 10)","name":"evt","attributes":[{"key":"e.k","value":{"stringValue":"v"}}],
              "droppedAttributesCount":2}]
            """))

        let child = try #require(byName["child-client"])
        #expect(child["parentSpanId"] as? String == "eee19b7ec3c1b174")
        #expect(child["kind"] as? Int == 3)
        #expect(child["flags"] as? Int == 0x101)
        #expect(child["droppedLinksCount"] as? Int == 2)
        #expect(canon(child["status"]) == canon(json: #"{"code":2,"message":"boom"}"#))
        #expect(canon(child["links"]) == canon(json: """
            [{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0000000000000077","traceState":"a=b",
              "attributes":[{"key":"l.k","value":{"intValue":"7"}}],"droppedAttributesCount":1,"flags":\(0x301)}]
            """))

        let remote = try #require(byName["remote-child"])
        #expect(remote["parentSpanId"] as? String == "0000000000009999")
        #expect(remote["kind"] as? Int == 5)
        #expect(remote["flags"] as? Int == 0x300)  // not sampled, parent known to be remote
        #expect(remote["status"] == nil)

        let plain = try #require(byName["producer"])
        #expect(plain["kind"] as? Int == 4)
        #expect(plain["attributes"] == nil && plain["events"] == nil && plain["links"] == nil && plain["status"] == nil)
    }

    static var metrics: [MetricData] {
        let start = t0 - 60_000_000_000
        let attrs = [Attribute("probe.target", "payments")]
        return [
            MetricData(name: "g.int", scope: InstrumentationScope(name: "probe-agent"), points: .gauge([
                NumberDataPoint(attributes: attrs, startTimeUnixNano: 0, timeUnixNano: t0, value: .int(0)),
                NumberDataPoint(attributes: [], startTimeUnixNano: 0, timeUnixNano: t0, value: .int(-5)),
            ])),
            MetricData(name: "g.double", description: "a gauge", unit: "1", scope: InstrumentationScope(name: "probe-agent"), points: .gauge([
                NumberDataPoint(attributes: attrs, startTimeUnixNano: 0, timeUnixNano: t0, value: .double(0.0)),
                NumberDataPoint(attributes: attrs, startTimeUnixNano: 0, timeUnixNano: t0, value: .double(2.5)),
            ])),
            MetricData(name: "c.mono", unit: "{transition}", scope: InstrumentationScope(name: "probe-agent"), points: .sum([
                NumberDataPoint(attributes: attrs, startTimeUnixNano: start, timeUnixNano: t0, value: .int(42)),
            ], temporality: .cumulative, isMonotonic: true)),
            MetricData(name: "s.delta", scope: InstrumentationScope(name: "probe-agent"), points: .sum([
                NumberDataPoint(attributes: [], startTimeUnixNano: start, timeUnixNano: t0, value: .double(-1.5)),
            ], temporality: .delta, isMonotonic: false)),
            MetricData(name: "h", unit: "s", scope: InstrumentationScope(name: "probe-agent.http", version: "1"), points: .histogram([
                HistogramDataPoint(attributes: attrs, startTimeUnixNano: start, timeUnixNano: t0, count: 5, sum: 12.5,
                                   min: 0.5, max: 7, bucketCounts: [1, 0, 3, 1], explicitBounds: [1, 5, 10]),
                HistogramDataPoint(attributes: [], startTimeUnixNano: start, timeUnixNano: t0, count: 0, sum: 0,
                                   min: 0, max: 0, bucketCounts: [0, 0, 0, 0], explicitBounds: [1, 5, 10]),
                HistogramDataPoint(attributes: [], startTimeUnixNano: start, timeUnixNano: t0, count: 1, sum: nil,
                                   min: nil, max: nil, bucketCounts: [1], explicitBounds: []),
            ], temporality: .cumulative)),
        ]
    }

    @Test(arguments: variants)
    func metrics(proto: OTLPProtocol, compression: OTLPCompression) async throws {
        let receiver = try Receiver()
        var c = config(.metrics, endpoint: receiver.metricsURL, protocol: proto, compression: compression)
        c.resource = Self.resource
        let exporter = OTLPHTTPMetricExporter(config: c)
        #expect(await exporter.export(Self.metrics) == .success)
        #expect(exporter.stats.exported == 9)  // data points

        let records = try await receiver.received()
        try #require(records.count == 1)
        #expect(records[0]["error"] == nil, "receiver could not decode: \(records[0]["error"] ?? "")")
        let decoded = try #require(records[0]["decoded"] as? [String: Any])
        let resourceMetrics = try #require(decoded["resourceMetrics"] as? [[String: Any]])
        let scopes = try #require(resourceMetrics.first?["scopeMetrics"] as? [[String: Any]])
        #expect(scopes.map { canon($0["scope"]) } == [
            canon(json: #"{"name":"probe-agent"}"#), canon(json: #"{"name":"probe-agent.http","version":"1"}"#),
        ])
        var byName: [String: [String: Any]] = [:]
        for scope in scopes { for m in scope["metrics"] as? [[String: Any]] ?? [] { byName[m["name"] as? String ?? ""] = m } }
        #expect(byName.count == 5)
        let t0 = Self.t0, start = Self.t0 - 60_000_000_000
        let attr = #"[{"key":"probe.target","value":{"stringValue":"payments"}}]"#

        #expect(canon(byName["g.int"]) == canon(json: """
            {"name":"g.int","gauge":{"dataPoints":[
              {"attributes":\(attr),"timeUnixNano":"\(t0)","asInt":"0"},
              {"timeUnixNano":"\(t0)","asInt":"-5"}]}}
            """))
        #expect(canon(byName["g.double"]) == canon(json: """
            {"name":"g.double","description":"a gauge","unit":"1","gauge":{"dataPoints":[
              {"attributes":\(attr),"timeUnixNano":"\(t0)","asDouble":0.0},
              {"attributes":\(attr),"timeUnixNano":"\(t0)","asDouble":2.5}]}}
            """))
        #expect(canon(byName["c.mono"]) == canon(json: """
            {"name":"c.mono","unit":"{transition}","sum":{"dataPoints":[
              {"attributes":\(attr),"startTimeUnixNano":"\(start)","timeUnixNano":"\(t0)","asInt":"42"}],
             "aggregationTemporality":2,"isMonotonic":true}}
            """))
        #expect(canon(byName["s.delta"]) == canon(json: """
            {"name":"s.delta","sum":{"dataPoints":[
              {"startTimeUnixNano":"\(start)","timeUnixNano":"\(t0)","asDouble":-1.5}],"aggregationTemporality":1}}
            """))
        #expect(canon(byName["h"]) == canon(json: """
            {"name":"h","unit":"s","histogram":{"dataPoints":[
              {"attributes":\(attr),"startTimeUnixNano":"\(start)","timeUnixNano":"\(t0)","count":"5","sum":12.5,
               "bucketCounts":["1","0","3","1"],"explicitBounds":[1.0,5.0,10.0],"min":0.5,"max":7.0},
              {"startTimeUnixNano":"\(start)","timeUnixNano":"\(t0)","sum":0.0,
               "bucketCounts":["0","0","0","0"],"explicitBounds":[1.0,5.0,10.0],"min":0.0,"max":0.0},
              {"startTimeUnixNano":"\(start)","timeUnixNano":"\(t0)","count":"1","bucketCounts":["1"]}],
             "aggregationTemporality":2}}
            """))
    }

    /// The per-signal endpoint is used as is (no /v1/traces added), and an empty batch sends nothing.
    @Test func perSignalEndpointAndEmptyBatch() async throws {
        let receiver = try Receiver()
        let env = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.base,
                   "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": receiver.base + "/custom/metrics"]
        let exporters = OTLPExporters(try TelemetryConfiguration.fromEnvironment(env).0)
        #expect(await exporters.spans?.export([]) == .success)
        #expect(await exporters.spans?.export([Sample.span("a")]) == .success)
        #expect(await exporters.metrics?.export(Self.metrics) == .success)
        let records = try await receiver.received()
        #expect(records.map { $0["path"] as? String } == ["/", "/custom/metrics"])
        #expect(records.allSatisfy { $0["error"] == nil })
    }
}
