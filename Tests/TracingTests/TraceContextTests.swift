import XCTest
@testable import Tracing

final class TraceContextTests: XCTestCase {
    let traceHex = "4bf92f3577b34da6a3ce929d0e0e4736"
    let spanHex = "00f067aa0ba902b7"

    func testParsesValidVersion00() throws {
        let context = try XCTUnwrap(W3CTraceContext.parse(traceparent: "00-\(traceHex)-\(spanHex)-01"))
        XCTAssertEqual(context.traceID.hex, traceHex)
        XCTAssertEqual(context.spanID.hex, spanHex)
        XCTAssertTrue(context.isSampled)
        XCTAssertTrue(context.isRemote)
        XCTAssertEqual(context.traceState, "")
    }

    func testFlags() throws {
        let cases: [(String, UInt8, Bool)] = [("00", 0, false), ("01", 1, true), ("02", 2, false),
                                              ("03", 3, true), ("09", 9, true), ("ff", 0xff, true)]
        for (flags, raw, sampled) in cases {
            let c = try XCTUnwrap(W3CTraceContext.parse(traceparent: "00-\(traceHex)-\(spanHex)-\(flags)"), flags)
            XCTAssertEqual(c.traceFlags.rawValue, raw, flags)
            XCTAssertEqual(c.isSampled, sampled, "only bit 0 means sampled: \(flags)")
        }
    }

    func testRejectsInvalidTraceparents() {
        let valid = "00-\(traceHex)-\(spanHex)-01"
        let invalid: [(String, String)] = [
            ("", "empty"),
            (String(valid.dropLast()), "54 characters"),
            (valid + "-", "version 00 with a trailing dash"),
            (valid + "-extra", "version 00 with extra fields"),
            (valid + "0", "version 00 too long"),
            ("00-\(traceHex.uppercased())-\(spanHex)-01", "uppercase trace id"),
            ("00-\(traceHex)-\(spanHex.uppercased())-01", "uppercase span id"),
            ("00-\(traceHex)-\(spanHex)-0A", "uppercase flags"),
            ("0A-\(traceHex)-\(spanHex)-01", "uppercase version"),
            ("00-\(String(repeating: "0", count: 32))-\(spanHex)-01", "all-zero trace id"),
            ("00-\(traceHex)-\(String(repeating: "0", count: 16))-01", "all-zero parent id"),
            ("ff-\(traceHex)-\(spanHex)-01", "version ff"),
            ("ff-\(traceHex)-\(spanHex)-01-extra", "version ff with extra fields"),
            ("00-\(traceHex.dropLast())-\(spanHex)0-01", "trace id 31 chars"),
            ("00-\(traceHex)0-\(spanHex.dropLast())-01", "span id 15 chars"),
            ("00-\(traceHex)-\(spanHex)-1", "flags 1 char"),
            ("0-\(traceHex)-\(spanHex)-010", "version 1 char"),
            ("00_\(traceHex)-\(spanHex)-01", "wrong separator"),
            ("00-\(traceHex)_\(spanHex)-01", "wrong separator 2"),
            ("00-\(traceHex)-\(spanHex)_01", "wrong separator 3"),
            ("00-\(traceHex.dropLast())g-\(spanHex)-01", "non-hex in trace id"),
            ("0g-\(traceHex)-\(spanHex)-01", "non-hex version"),
            ("00-\(traceHex)-\(spanHex)-0x", "non-hex flags"),
            ("cc-\(traceHex)-\(spanHex)-01extra", "future version without dash after 55"),
            ("cc-\(traceHex)-\(spanHex)-0", "future version too short"),
            (" 00-\(traceHex)-\(spanHex)-01", "leading space"),
        ]
        for (header, why) in invalid {
            XCTAssertNil(W3CTraceContext.parse(traceparent: header, tracestate: "a=1"), why)
        }
    }

    func testFutureVersions() throws {
        for header in ["cc-\(traceHex)-\(spanHex)-01", "cc-\(traceHex)-\(spanHex)-01-what-the-future-holds",
                       "01-\(traceHex)-\(spanHex)-00-", "fe-\(traceHex)-\(spanHex)-03-x"] {
            let c = try XCTUnwrap(W3CTraceContext.parse(traceparent: header), header)
            XCTAssertEqual(c.traceID.hex, traceHex)
            XCTAssertEqual(c.spanID.hex, spanHex)
        }
    }

    func testFormatIsLowercaseAndRoundTrips() throws {
        XCTAssertEqual(W3CTraceContext.traceparent(SpanContext(traceID: TraceID(hex: traceHex)!, spanID: SpanID(hex: spanHex)!,
                                                               traceFlags: .sampled)),
                       "00-\(traceHex)-\(spanHex)-01")
        XCTAssertEqual(W3CTraceContext.traceparent(SpanContext(traceID: TraceID(hex: traceHex)!, spanID: SpanID(hex: spanHex)!,
                                                               traceFlags: [])),
                       "00-\(traceHex)-\(spanHex)-00")
        for _ in 0..<200 {
            let c = SpanContext(traceID: .random(), spanID: .random(), traceFlags: TraceFlags(rawValue: .random(in: 0...3)))
            let header = W3CTraceContext.traceparent(c)
            XCTAssertEqual(header.utf8.count, 55)
            XCTAssertEqual(header, header.lowercased())
            let back = try XCTUnwrap(W3CTraceContext.parse(traceparent: header))
            XCTAssertEqual(back.traceID, c.traceID)
            XCTAssertEqual(back.spanID, c.spanID)
            XCTAssertEqual(back.traceFlags, c.traceFlags)
        }
    }

    func testTracestate() throws {
        let parent = "00-\(traceHex)-\(spanHex)-01"
        let cases: [(String, String, String)] = [
            ("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "valid"),
            (" a=1 ,\tb=2 ", "a=1,b=2", "optional whitespace dropped"),
            ("a=1,,b=2,", "a=1,b=2", "empty members dropped"),
            ("fw529a3039@dt=xyz", "fw529a3039@dt=xyz", "multi-tenant key"),
            ("0abc@sys=1", "0abc@sys=1", "tenant may start with a digit"),
            ("a/b*c_d-e=v a l", "a/b*c_d-e=v a l", "key chars and inner spaces"),
            ("", "", "empty"),
            ("Congo=1", "", "uppercase key"),
            ("1abc=1", "", "simple key starting with a digit"),
            ("a=1,a=2", "", "duplicate key"),
            ("novalue", "", "no ="),
            ("a=", "", "empty value"),
            ("=v", "", "empty key"),
            ("a=b=c", "", "= in value"),
            ("a=\u{7f}", "", "control char in value"),
            ("a=é", "", "non-ASCII value"),
            (String(repeating: "k", count: 257) + "=1", "", "key over 256"),
            ("a=" + String(repeating: "v", count: 257), "", "value over 256"),
            ("t@" + String(repeating: "s", count: 15) + "=1", "", "system id over 14"),
            ("t@1sys=1", "", "system id starting with a digit"),
            ("@sys=1", "", "empty tenant"),
        ]
        for (header, expected, why) in cases {
            let c = try XCTUnwrap(W3CTraceContext.parse(traceparent: parent, tracestate: header))
            XCTAssertEqual(c.traceState, expected, why)
        }
    }

    func testTracestateMemberLimit() throws {
        let parent = "00-\(traceHex)-\(spanHex)-01"
        let members = (0..<33).map { "k\($0)=v" }
        let thirtyTwo = members.prefix(32).joined(separator: ",")
        XCTAssertEqual(W3CTraceContext.parse(traceparent: parent, tracestate: thirtyTwo)?.traceState, thirtyTwo)
        XCTAssertEqual(W3CTraceContext.parse(traceparent: parent, tracestate: members.joined(separator: ","))?.traceState, "")
    }

    func testChildOfRemoteParentKeepsTraceAndDefinedFlagsOnly() throws {
        let processor = CollectingProcessor()
        let tracer = Tracer(scope: .test, processor: processor)
        let remote = try XCTUnwrap(W3CTraceContext.parse(traceparent: "00-\(traceHex)-\(spanHex)-ff",
                                                         tracestate: "a=1"))
        let child = tracer.startSpan("child", parent: remote)
        XCTAssertEqual(child.context.traceID, remote.traceID)
        XCTAssertEqual(child.parentSpanID, remote.spanID)
        XCTAssertEqual(child.context.traceFlags, [.sampled, .random], "reserved bits are not repeated")
        XCTAssertEqual(child.context.traceState, "a=1")
        XCTAssertFalse(child.context.isRemote)
        child.end()
        XCTAssertEqual(processor.spans.first?.parentIsRemote, true)
    }
}
