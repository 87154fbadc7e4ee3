import XCTest
@testable import Tracing

final class SpanLimitsTests: XCTestCase {
    func tracer(_ configure: (inout SpanLimits) -> Void) -> (Tracer, CollectingProcessor) {
        var limits = SpanLimits()
        configure(&limits)
        let processor = CollectingProcessor()
        return (Tracer(scope: .test, processor: processor, limits: limits), processor)
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
}
