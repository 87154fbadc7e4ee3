import XCTest
@testable import Tracing

final class SpanLimitsTests: XCTestCase {
    func tracer(_ configure: (inout SpanLimits) -> Void) -> (Tracer, CollectingProcessor) {
        var limits = SpanLimits()
        configure(&limits)
        let processor = CollectingProcessor()
        return (Tracer(processor: processor, limits: limits), processor)
    }

    func testAttributeCountLimitDropsAndCounts() throws {
        let (tracer, processor) = tracer { $0.attributeCount = 3 }
        let span = tracer.startSpan("s", attributes: [Attribute("a", 1), Attribute("b", 2)])
        span.setAttribute("c", 3)
        span.setAttribute("d", 4)
        span.setAttribute("e", 5)
        span.setAttribute("a", 10)  // replacing an existing key is always allowed
        span.end()
        let data = try XCTUnwrap(processor.spans.first)
        XCTAssertEqual(data.attributes, [Attribute("a", 10), Attribute("b", 2), Attribute("c", 3)])
        XCTAssertEqual(data.droppedAttributesCount, 2)
    }

    func testInitialAttributesOverLimitOrDuplicated() throws {
        let (tracer, processor) = tracer { $0.attributeCount = 2 }
        tracer.startSpan("over", attributes: [Attribute("a", 1), Attribute("b", 2), Attribute("c", 3)]).end()
        tracer.startSpan("dup", attributes: [Attribute("a", 1), Attribute("a", 2)]).end()
        tracer.startSpan("fits", attributes: [Attribute("x", 1), Attribute("y", 2)]).end()
        let spans = processor.spans
        XCTAssertEqual(spans[0].attributes.map(\.key), ["a", "b"])
        XCTAssertEqual(spans[0].droppedAttributesCount, 1)
        XCTAssertEqual(spans[1].attributes, [Attribute("a", 2)], "the last duplicate wins")
        XCTAssertEqual(spans[1].droppedAttributesCount, 0)
        XCTAssertEqual(spans[2].attributes, [Attribute("x", 1), Attribute("y", 2)])
    }

    func testValueLengthTruncation() throws {
        let (tracer, processor) = tracer { $0.attributeValueLength = 3 }
        let span = tracer.startSpan("s", attributes: [Attribute("s", "abcdef")])
        span.setAttribute("short", "ab")
        span.setAttribute("exact", "abc")
        span.setAttribute("bytes", .bytes([1, 2, 3, 4, 5]))
        span.setAttribute("array", .array(["abcd", 12345, "x"]))
        span.setAttribute("map", .map([Attribute("k", "vvvvv"), Attribute("n", .map([Attribute("deep", "zzzz")]))]))
        span.setAttribute("int", 123_456_789)
        span.setAttribute("unicode", "éàüö")
        span.addEvent("e", attributes: [Attribute("ev", "long value")])
        span.addLink(SpanLink(SpanContext(traceID: .random(), spanID: .random()), attributes: [Attribute("lk", "linked")]))
        span.end()
        let data = try XCTUnwrap(processor.spans.first)
        XCTAssertEqual(data.attributes["s"], "abc")
        XCTAssertEqual(data.attributes["short"], "ab")
        XCTAssertEqual(data.attributes["exact"], "abc")
        XCTAssertEqual(data.attributes["bytes"], .bytes([1, 2, 3]))
        XCTAssertEqual(data.attributes["array"], .array(["abc", 12345, "x"]))
        XCTAssertEqual(data.attributes["map"], .map([Attribute("k", "vvv"), Attribute("n", .map([Attribute("deep", "zzz")]))]))
        XCTAssertEqual(data.attributes["int"], 123_456_789)
        XCTAssertEqual(data.attributes["unicode"], "éàü", "characters, not bytes")
        XCTAssertEqual(data.events.first?.attributes["ev"], "lon")
        XCTAssertEqual(data.links.first?.attributes["lk"], "lin")
        XCTAssertEqual(data.droppedAttributesCount, 0)
    }

    func testEventLimits() throws {
        let (tracer, processor) = tracer {
            $0.eventCount = 2
            $0.attributesPerEvent = 1
        }
        let span = tracer.startSpan("s")
        span.addEvent("one", attributes: [Attribute("a", 1), Attribute("b", 2), Attribute("c", 3)])
        span.addEvent("two")
        span.addEvent("three")
        span.addEvent("four")
        span.end()
        let data = try XCTUnwrap(processor.spans.first)
        XCTAssertEqual(data.events.map(\.name), ["one", "two"])
        XCTAssertEqual(data.droppedEventsCount, 2)
        XCTAssertEqual(data.events[0].attributes, [Attribute("a", 1)])
        XCTAssertEqual(data.events[0].droppedAttributesCount, 2)
    }

    func testLinkLimits() throws {
        let (tracer, processor) = tracer {
            $0.linkCount = 1
            $0.attributesPerLink = 2
        }
        let context = SpanContext(traceID: .random(), spanID: .random())
        let span = tracer.startSpan("s", links: [SpanLink(context, attributes: [Attribute("a", 1), Attribute("b", 2), Attribute("c", 3)],
                                                          droppedAttributesCount: 1)])
        span.addLink(SpanLink(context))
        span.addLink(SpanLink(context))
        span.end()
        let data = try XCTUnwrap(processor.spans.first)
        XCTAssertEqual(data.links.count, 1)
        XCTAssertEqual(data.droppedLinksCount, 2)
        XCTAssertEqual(data.links[0].attributes.map(\.key), ["a", "b"])
        XCTAssertEqual(data.links[0].droppedAttributesCount, 2, "adds to what the link already dropped")
    }

    func testNothingRecordedAfterEnd() throws {
        let (tracer, processor) = tracer { _ in }
        let span = tracer.startSpan("s")
        span.end()
        span.setAttribute("late", 1)
        span.addEvent("late")
        span.setStatus(.error("late"))
        span.end()
        XCTAssertEqual(processor.spans.count, 1, "ends once")
        XCTAssertTrue(span.snapshot.attributes.isEmpty)
        XCTAssertTrue(span.snapshot.events.isEmpty)
        XCTAssertEqual(span.snapshot.status, .unset)
    }

    // MARK: environment

    func testEnvironmentDefaults() {
        let (limits, warnings) = SpanLimits.fromEnvironment([:])
        XCTAssertEqual(limits, SpanLimits())
        XCTAssertEqual(limits.attributeCount, 128)
        XCTAssertNil(limits.attributeValueLength)
        XCTAssertEqual([limits.eventCount, limits.linkCount, limits.attributesPerEvent, limits.attributesPerLink],
                       [128, 128, 128, 128])
        XCTAssertTrue(warnings.isEmpty)
    }

    func testEnvironmentTable() {
        typealias L = SpanLimits
        let cases: [(env: [String: String], check: (L) -> Bool, warnings: Int, why: String)] = [
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "10"], { $0.attributeCount == 10 && $0.attributesPerEvent == 128 }, 0, "specific count"),
            (["OTEL_ATTRIBUTE_COUNT_LIMIT": "20"],
             { $0.attributeCount == 20 && $0.attributesPerEvent == 20 && $0.attributesPerLink == 20 && $0.eventCount == 128 },
             0, "generic count applies to span, event and link attributes"),
            (["OTEL_ATTRIBUTE_COUNT_LIMIT": "20", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "5", "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT": "6",
              "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": "7"],
             { $0.attributeCount == 5 && $0.attributesPerEvent == 6 && $0.attributesPerLink == 7 }, 0, "specific beats generic"),
            (["OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "64"], { $0.attributeValueLength == 64 }, 0, "generic length"),
            (["OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "64", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "32"],
             { $0.attributeValueLength == 32 }, 0, "specific length beats generic"),
            (["OTEL_SPAN_EVENT_COUNT_LIMIT": "3", "OTEL_SPAN_LINK_COUNT_LIMIT": "4"],
             { $0.eventCount == 3 && $0.linkCount == 4 }, 0, "event and link counts"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "0"], { $0.attributeCount == 0 }, 0, "zero is valid"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": " 12 "], { $0.attributeCount == 12 }, 0, "surrounding blanks"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": ""], { $0.attributeCount == 128 }, 0, "empty = unset"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-1"], { $0.attributeCount == 128 }, 1, "negative → default"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "ten"], { $0.attributeCount == 128 }, 1, "not a number"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "1.5"], { $0.attributeCount == 128 }, 1, "not an integer"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "2147483648"], { $0.attributeCount == 128 }, 1, "over 2^31-1"),
            (["OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "x", "OTEL_ATTRIBUTE_COUNT_LIMIT": "9"], { $0.attributeCount == 9 }, 1,
             "invalid specific falls back to generic"),
            (["OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-5"], { $0.attributeValueLength == nil }, 1, "invalid length → no limit"),
            (["OTEL_SPAN_EVENT_COUNT_LIMIT": "x", "OTEL_SPAN_LINK_COUNT_LIMIT": "y"], { $0.eventCount == 128 && $0.linkCount == 128 },
             2, "one warning each"),
        ]
        for c in cases {
            let (limits, warnings) = SpanLimits.fromEnvironment(c.env)
            XCTAssertTrue(c.check(limits), "\(c.why): \(limits)")
            XCTAssertEqual(warnings.count, c.warnings, "\(c.why): \(warnings)")
        }
    }

    func testWarningNamesTheVariable() {
        let (_, warnings) = SpanLimits.fromEnvironment(["OTEL_LINK_ATTRIBUTE_COUNT_LIMIT": "lots"])
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"))
    }
}
