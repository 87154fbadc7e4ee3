import XCTest
@testable import Tracing

final class ParentingTests: XCTestCase {
    func testWithSpanIsCurrentAcrossAwait() async throws {
        let processor = CollectingProcessor()
        let tracer = Tracer(scope: .test, processor: processor)
        XCTAssertNil(Span.current)
        try await tracer.withSpan("root") { root in
            XCTAssertTrue(Span.current === root)
            try await Task.sleep(for: .milliseconds(1))
            await Task.yield()
            XCTAssertTrue(Span.current === root)
            let child = tracer.startSpan("child")
            XCTAssertEqual(child.parentSpanID, root.context.spanID)
            XCTAssertEqual(child.context.traceID, root.context.traceID)
            child.end()
        }
        XCTAssertNil(Span.current)
        XCTAssertEqual(processor.spans.map(\.name), ["child", "root"])
    }

    func testNestedWithSpanRestoresCurrent() async {
        let processor = CollectingProcessor()
        let tracer = Tracer(scope: .test, processor: processor)
        await tracer.withSpan("root") { root in
            await tracer.withSpan("mid") { mid in
                XCTAssertEqual(mid.parentSpanID, root.context.spanID)
                await tracer.withSpan("leaf") { leaf in
                    XCTAssertEqual(leaf.parentSpanID, mid.context.spanID)
                }
                XCTAssertTrue(Span.current === mid)
            }
            XCTAssertTrue(Span.current === root)
        }
        let byName = Dictionary(uniqueKeysWithValues: processor.spans.map { ($0.name, $0) })
        XCTAssertNil(byName["root"]?.parentSpanID)
        XCTAssertEqual(byName["mid"]?.parentSpanID, byName["root"]?.context.spanID)
        XCTAssertEqual(byName["leaf"]?.parentSpanID, byName["mid"]?.context.spanID)
        XCTAssertEqual(Set(processor.spans.map(\.context.traceID)).count, 1)
    }

    func testAsyncLetChildrenInheritParent() async {
        let tracer = Tracer(scope: .test, processor: CollectingProcessor())
        await tracer.withSpan("root") { root in
            async let a = tracer.withSpan("a") { $0.parentSpanID }
            async let b = tracer.withSpan("b") { $0.parentSpanID }
            let parents = await [a, b]
            XCTAssertEqual(parents, [root.context.spanID, root.context.spanID])
        }
    }

    func testTaskGroupChildrenInheritParent() async {
        let processor = CollectingProcessor()
        let tracer = Tracer(scope: .test, processor: processor)
        let rootID = await tracer.withSpan("root") { root in
            await withTaskGroup(of: Void.self) { group in
                for i in 0..<8 {
                    group.addTask { await tracer.withSpan("child\(i)") { _ in try? await Task.sleep(for: .milliseconds(1)) } }
                }
            }
            return root.context.spanID
        }
        let children = processor.spans.filter { $0.name.hasPrefix("child") }
        XCTAssertEqual(children.count, 8)
        XCTAssertTrue(children.allSatisfy { $0.parentSpanID == rootID })
    }

    func testUnstructuredTaskInheritsDetachedDoesNot() async {
        let tracer = Tracer(scope: .test, processor: CollectingProcessor())
        await tracer.withSpan("root") { root in
            let inherited = await Task { Span.current?.context.spanID }.value
            XCTAssertEqual(inherited, root.context.spanID)
            let detached = await Task.detached { Span.current?.context.spanID }.value
            XCTAssertNil(detached)
        }
    }

    func testRootIgnoresCurrentAndExplicitParentWins() async {
        let tracer = Tracer(scope: .test, processor: CollectingProcessor())
        let remote = SpanContext(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), isRemote: true)
        await tracer.withSpan("outer") { outer in
            let root = tracer.startSpan("new", root: true)
            XCTAssertNil(root.parentSpanID)
            XCTAssertNotEqual(root.context.traceID, outer.context.traceID)
            let explicit = tracer.startSpan("explicit", parent: remote)
            XCTAssertEqual(explicit.parentSpanID, SpanID(3))
            XCTAssertEqual(explicit.context.traceID, remote.traceID)
            let invalidParent = tracer.startSpan("x", parent: SpanContext(traceID: .invalid, spanID: SpanID(3)))
            XCTAssertNil(invalidParent.parentSpanID, "an invalid parent starts a new trace")
        }
    }

    struct Boom: Error {}

    func testWithSpanRecordsErrorAndAlwaysEnds() async {
        let processor = CollectingProcessor()
        let tracer = Tracer(scope: .test, processor: processor)
        do {
            try await tracer.withSpan("failing") { _ in throw Boom() }
            XCTFail("should rethrow")
        } catch {}
        let span = processor.spans.first
        XCTAssertEqual(span?.status.code, .error)
        XCTAssertEqual(span?.events.first?.name, "exception")
    }

    func testUnsampledParentPropagatesButRecordsNothing() async {
        let processor = CollectingProcessor()
        let tracer = Tracer(scope: .test, sampler: ParentBasedSampler(root: AlwaysOffSampler()), processor: processor)
        await tracer.withSpan("root") { root in
            XCTAssertFalse(root.isRecording)
            XCTAssertTrue(root.context.isValid)
            XCTAssertFalse(root.context.isSampled)
            await tracer.withSpan("child") { child in
                XCTAssertEqual(child.context.traceID, root.context.traceID)
                XCTAssertEqual(child.parentSpanID, root.context.spanID)
                XCTAssertFalse(child.isRecording)
            }
        }
        XCTAssertTrue(processor.spans.isEmpty)
        XCTAssertEqual(processor.started, 0)
    }
}
