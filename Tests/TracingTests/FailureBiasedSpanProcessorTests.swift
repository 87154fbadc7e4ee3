import XCTest
@testable import Tracing

final class FailureBiasedSpanProcessorTests: XCTestCase {
    /// The rule these tests keep by: a root whose status is ERROR (the agent's rule is ProbeLogic's).
    static let failed: @Sendable (SpanData) -> Bool = { $0.status.code == .error }

    func testKeepDropMatrix() {
        // (root is kept by predicate, trace within ratio) → forwarded
        let inside = TraceID(high: 0, low: (1 << 56) - 1), outside = TraceID(high: 0, low: 1)
        for ratio in [0.0, 0.5, 1.0] {
            for failing in [false, true] {
                for traceID in [inside, outside] {
                    let next = CollectingProcessor()
                    let processor = FailureBiasedSpanProcessor(ratio: ratio, next: next, keep: Self.failed)
                    let root = makeSpan("root", traceID: traceID, status: failing ? .error("x") : .ok,
                                        attributes: [Attribute("health.status", failing ? "unhealthy" : "healthy")])
                    let child = makeSpan("child", traceID: traceID, parent: root.context.spanID)
                    processor.onEnd(child)
                    XCTAssertTrue(next.spans.isEmpty, "children wait for their root")
                    processor.onEnd(root)
                    let expected = failing || TraceIDRatioSampler(ratio: ratio).isSampled(traceID)
                    XCTAssertEqual(next.spans.map(\.name), expected ? ["child", "root"] : [],
                                   "ratio \(ratio) failing \(failing) \(traceID)")
                    let stats = processor.stats
                    XCTAssertEqual(stats.tracesKept, expected ? 1 : 0)
                    XCTAssertEqual(stats.tracesSampledOut, expected ? 0 : 1)
                    XCTAssertEqual(stats.spansSampledOut, expected ? 0 : 2)
                    XCTAssertEqual(stats.pendingSpans, 0)
                }
            }
        }
    }

    func testCustomPredicateAndRemoteParentRoot() {
        let next = CollectingProcessor()
        let processor = FailureBiasedSpanProcessor(ratio: 0, next: next, keep: { $0.name == "keep-me" })
        let remoteRoot = makeSpan("keep-me", parent: SpanID(99), parentIsRemote: true)
        let child = makeSpan("child", traceID: remoteRoot.context.traceID, parent: remoteRoot.context.spanID)
        processor.onEnd(child)
        processor.onEnd(remoteRoot)
        XCTAssertEqual(next.spans.map(\.name), ["child", "keep-me"], "a span with a remote parent is a local root")
        processor.onEnd(makeSpan("other"))
        XCTAssertEqual(next.spans.count, 2)
    }

    /// A processor being replaced hands over the children it holds, in the order they came,
    /// rather than dropping them: their roots end in its successor.
    func testReleasePendingForwardsHeldChildren() {
        let next = CollectingProcessor()
        let processor = FailureBiasedSpanProcessor(ratio: 0, next: next, keep: Self.failed)
        let first = makeSpan("first", parent: SpanID(1)), second = makeSpan("second", parent: SpanID(2))
        processor.onEnd(first)
        processor.onEnd(second)
        XCTAssertTrue(next.spans.isEmpty)
        processor.releasePending()
        XCTAssertEqual(next.spans.map(\.name), ["first", "second"])
        XCTAssertEqual(processor.stats.pendingSpans, 0)
        XCTAssertEqual(processor.stats.spansKept, 2)
        XCTAssertEqual(processor.stats.spansEvicted, 0)
    }

    func testLateChildFollowsRootDecision() {
        let next = CollectingProcessor()
        let processor = FailureBiasedSpanProcessor(ratio: 0, next: next, keep: Self.failed)
        let kept = makeSpan("kept", status: .error("x"))
        let dropped = makeSpan("dropped", status: .ok)
        processor.onEnd(kept)
        processor.onEnd(dropped)
        processor.onEnd(makeSpan("late-kept", traceID: kept.context.traceID, parent: kept.context.spanID))
        processor.onEnd(makeSpan("late-dropped", traceID: dropped.context.traceID, parent: dropped.context.spanID))
        XCTAssertEqual(next.spans.map(\.name), ["kept", "late-kept"])
        XCTAssertEqual(processor.stats.pendingTraces, 0)
        XCTAssertEqual(processor.stats.spansSampledOut, 2)
    }

    func testPendingTraceBoundEvictsOldest() {
        let next = CollectingProcessor()
        let processor = FailureBiasedSpanProcessor(ratio: 1, next: next, keep: Self.failed, maxPendingTraces: 2, maxPendingSpans: 100)
        let roots = (0..<3).map { _ in makeSpan("root") }
        for root in roots {
            for _ in 0..<2 { processor.onEnd(makeSpan("child", traceID: root.context.traceID, parent: root.context.spanID)) }
        }
        XCTAssertEqual(processor.stats.pendingTraces, 2)
        XCTAssertEqual(processor.stats.spansEvicted, 2)
        for root in roots { processor.onEnd(root) }
        XCTAssertEqual(next.spans.filter { $0.context.traceID == roots[0].context.traceID }.map(\.name), ["root"],
                       "the oldest trace lost its children")
        XCTAssertEqual(next.spans.filter { $0.context.traceID == roots[2].context.traceID }.count, 3)
    }

    func testPendingSpanBoundEvictsOldest() {
        let next = CollectingProcessor()
        let processor = FailureBiasedSpanProcessor(ratio: 1, next: next, keep: Self.failed, maxPendingTraces: 100, maxPendingSpans: 3)
        let a = makeSpan("a"), b = makeSpan("b")
        for _ in 0..<2 { processor.onEnd(makeSpan("a-child", traceID: a.context.traceID, parent: a.context.spanID)) }
        for _ in 0..<2 { processor.onEnd(makeSpan("b-child", traceID: b.context.traceID, parent: b.context.spanID)) }
        let stats = processor.stats
        XCTAssertEqual(stats.pendingSpans, 2)
        XCTAssertEqual(stats.pendingTraces, 1)
        XCTAssertEqual(stats.spansEvicted, 2)
        processor.onEnd(b)
        XCTAssertEqual(next.spans.map(\.name), ["b-child", "b-child", "b"])
    }

    func testShutdownDropsPendingAndForwards() async {
        let next = CollectingProcessor()
        let processor = FailureBiasedSpanProcessor(ratio: 1, next: next, keep: Self.failed)
        processor.onEnd(makeSpan("orphan", parent: SpanID(5)))
        await processor.forceFlush(deadline: .now + .seconds(1))
        XCTAssertEqual(next.flushes, 1)
        await processor.shutdown(deadline: .now + .seconds(1))
        XCTAssertEqual(next.shutdowns, 1)
        XCTAssertEqual(processor.stats.spansEvicted, 1)
        XCTAssertEqual(processor.stats.pendingSpans, 0)
        XCTAssertTrue(next.spans.isEmpty)
    }

    func testWithTracerKeepsFailingProbesAndSamplesHealthyOnes() async {
        let next = CollectingProcessor()
        let processor = FailureBiasedSpanProcessor(ratio: 0, next: next, keep: Self.failed)
        let tracer = Tracer(scope: .test, processor: processor)
        for healthy in [true, false, true] {
            await tracer.withSpan("probe", root: true) { probe in
                await tracer.withSpan("POST", kind: .client) { _ in }
                probe.setAttribute("health.status", healthy ? "healthy" : "unreachable")
                probe.setStatus(healthy ? .ok : .error("unreachable"))
            }
        }
        XCTAssertEqual(next.spans.map(\.name), ["POST", "probe"])
        XCTAssertEqual(next.spans.last?.attributes["health.status"], "unreachable")
        XCTAssertEqual(processor.stats.tracesSampledOut, 2)
    }
}
