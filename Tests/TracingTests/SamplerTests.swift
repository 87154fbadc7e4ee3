import XCTest
@testable import Tracing

final class SamplerTests: XCTestCase {
    func decide(_ sampler: any Sampler, parent: SpanContext? = nil, traceID: TraceID = .random()) -> SamplingResult.Decision {
        sampler.shouldSample(parent: parent, traceID: traceID, name: "s", kind: .internal, attributes: [], links: []).decision
    }

    func ids(_ n: Int, seed: UInt64 = 7) -> [TraceID] {
        var g = Xoshiro256StarStar(seed: seed)
        return (0..<n).map { _ in TraceID.random(using: &g) }
    }

    func testAlwaysOnAndOff() {
        for id in ids(100) {
            XCTAssertEqual(decide(AlwaysOnSampler(), traceID: id), .recordAndSample)
            XCTAssertEqual(decide(AlwaysOffSampler(), traceID: id), .drop)
            XCTAssertEqual(decide(AlwaysOffSampler(), parent: SpanContext(traceID: id, spanID: SpanID(1)), traceID: id), .drop)
        }
        XCTAssertEqual(AlwaysOffSampler().description, "AlwaysOffSampler")
    }

    func testRatioBounds() {
        XCTAssertEqual(TraceIDRatioSampler(ratio: -0.5).ratio, 0)
        XCTAssertEqual(TraceIDRatioSampler(ratio: 2).ratio, 1)
        XCTAssertEqual(TraceIDRatioSampler(ratio: .nan).ratio, 0)
        XCTAssertEqual(TraceIDRatioSampler(ratio: 0.25).ratio, 0.25)
        let all = ids(5000)
        XCTAssertTrue(all.allSatisfy { TraceIDRatioSampler(ratio: 1).isSampled($0) })
        XCTAssertTrue(all.allSatisfy { !TraceIDRatioSampler(ratio: 0).isSampled($0) })
        // The extremes of the 56-bit random part.
        let max56 = TraceID(high: 0, low: (1 << 56) - 1), zero56 = TraceID(high: 1, low: 0)
        XCTAssertFalse(TraceIDRatioSampler(ratio: 0).isSampled(max56))
        XCTAssertTrue(TraceIDRatioSampler(ratio: 1).isSampled(zero56))
        XCTAssertTrue(TraceIDRatioSampler(ratio: 1e-9).isSampled(max56))
        XCTAssertFalse(TraceIDRatioSampler(ratio: 1 - 1e-9).isSampled(zero56))
    }

    func testRatioUsesRightmost56BitsOnly() {
        let half = TraceIDRatioSampler(ratio: 0.5)
        XCTAssertTrue(half.isSampled(TraceID(high: 0, low: 1 << 55)), "R = T is sampled")
        XCTAssertFalse(half.isSampled(TraceID(high: 0, low: (1 << 55) - 1)))
        for id in ids(1000) {
            let other = TraceID(high: ~id.high, low: id.low ^ 0xFF00_0000_0000_0000)
            XCTAssertEqual(half.isSampled(id), half.isSampled(other), "high 72 bits are ignored")
        }
    }

    func testRatioIsDeterministicAndMonotone() {
        let ratios = [0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 1]
        let all = ids(20_000)
        var previous: Set<TraceID> = []
        for ratio in ratios {
            let a = TraceIDRatioSampler(ratio: ratio), b = TraceIDRatioSampler(ratio: ratio)
            let sampled = Set(all.filter { a.isSampled($0) })
            XCTAssertEqual(sampled, Set(all.filter { b.isSampled($0) }), "same decision from every instance")
            XCTAssertTrue(previous.isSubset(of: sampled), "ratio \(ratio) samples a superset of lower ratios")
            // Binomial: within 6σ of the expected count.
            let expected = ratio * Double(all.count), sigma = (Double(all.count) * ratio * (1 - ratio)).squareRoot()
            XCTAssertLessThanOrEqual(abs(Double(sampled.count) - expected), 6 * sigma + 1, "ratio \(ratio)")
            for id in all.prefix(200) {
                XCTAssertEqual(decide(a, traceID: id), a.isSampled(id) ? .recordAndSample : .drop)
            }
            previous = sampled
        }
    }

    /// Each delegate answers with a distinct decision so the table shows which one was asked.
    struct Marker: Sampler {
        let decision: SamplingResult.Decision
        let attributes: [Attribute]
        func shouldSample(parent: SpanContext?, traceID: TraceID, name: String, kind: SpanKind,
                          attributes: [Attribute], links: [SpanLink]) -> SamplingResult {
            SamplingResult(decision, attributes: self.attributes)
        }
        var description: String { "Marker" }
    }

    func testParentBasedMatrix() {
        func marker(_ name: String) -> Marker { Marker(decision: .recordOnly, attributes: [Attribute("asked", .string(name))]) }
        let sampler = ParentBasedSampler(root: marker("root"), remoteParentSampled: marker("remoteSampled"),
                                         remoteParentNotSampled: marker("remoteNotSampled"),
                                         localParentSampled: marker("localSampled"),
                                         localParentNotSampled: marker("localNotSampled"))
        let id = TraceID.random()
        func parent(remote: Bool, sampled: Bool) -> SpanContext {
            SpanContext(traceID: id, spanID: SpanID(1), traceFlags: sampled ? .sampled : [], isRemote: remote)
        }
        let cases: [(SpanContext?, String)] = [
            (nil, "root"),
            (SpanContext(traceID: .invalid, spanID: SpanID(1)), "root"),
            (parent(remote: true, sampled: true), "remoteSampled"),
            (parent(remote: true, sampled: false), "remoteNotSampled"),
            (parent(remote: false, sampled: true), "localSampled"),
            (parent(remote: false, sampled: false), "localNotSampled"),
        ]
        for (p, expected) in cases {
            let result = sampler.shouldSample(parent: p, traceID: id, name: "s", kind: .internal, attributes: [], links: [])
            XCTAssertEqual(result.attributes["asked"], .string(expected))
        }
    }

    func testParentBasedDefaults() {
        let id = TraceID.random()
        let cases: [(root: any Sampler, parent: SpanContext?, expected: SamplingResult.Decision)] = [
            (AlwaysOnSampler(), nil, .recordAndSample),
            (AlwaysOffSampler(), nil, .drop),
            (AlwaysOffSampler(), SpanContext(traceID: id, spanID: SpanID(1), traceFlags: .sampled, isRemote: true), .recordAndSample),
            (AlwaysOnSampler(), SpanContext(traceID: id, spanID: SpanID(1), traceFlags: [], isRemote: true), .drop),
            (AlwaysOffSampler(), SpanContext(traceID: id, spanID: SpanID(1), traceFlags: .sampled, isRemote: false), .recordAndSample),
            (AlwaysOnSampler(), SpanContext(traceID: id, spanID: SpanID(1), traceFlags: [], isRemote: false), .drop),
            (AlwaysOnSampler(), SpanContext(traceID: id, spanID: SpanID(1), traceFlags: .random, isRemote: false), .drop),
        ]
        for c in cases {
            XCTAssertEqual(decide(ParentBasedSampler(root: c.root), parent: c.parent, traceID: id), c.expected,
                           "\(c.root.description) \(String(describing: c.parent))")
        }
        XCTAssertEqual(ParentBasedSampler(root: TraceIDRatioSampler(ratio: 0.5)).description,
                       "ParentBased{root=TraceIdRatioBased{0.5},remoteParentSampled=AlwaysOnSampler,"
                           + "remoteParentNotSampled=AlwaysOffSampler,localParentSampled=AlwaysOnSampler,"
                           + "localParentNotSampled=AlwaysOffSampler}")
    }

    func testTracerAppliesDecision() {
        let processor = CollectingProcessor()
        let off = Tracer(scope: .test, sampler: AlwaysOffSampler(), processor: processor)
        let dropped = off.startSpan("dropped", attributes: [Attribute("a", 1)])
        XCTAssertFalse(dropped.isRecording)
        XCTAssertFalse(dropped.context.isSampled)
        XCTAssertTrue(dropped.context.isValid, "a dropped span still propagates")
        dropped.end()
        let recordOnly = Tracer(scope: .test, sampler: Marker(decision: .recordOnly, attributes: [Attribute("sampler", "x")]), processor: processor)
        let recorded = recordOnly.startSpan("recorded", attributes: [Attribute("a", 1)])
        XCTAssertTrue(recorded.isRecording)
        XCTAssertFalse(recorded.context.isSampled)
        XCTAssertEqual(recorded.snapshot.attributes, [Attribute("a", 1), Attribute("sampler", "x")], "sampler attributes are added")
        recorded.end()
        XCTAssertTrue(processor.spans.isEmpty, "only sampled spans reach onEnd")
        XCTAssertEqual(processor.started, 1, "recording spans reach onStart")
    }
}

final class SamplerConfigTests: XCTestCase {
    func testMakeSampler() {
        let expected: [(SamplerConfig, String)] = [
            (.alwaysOn, "AlwaysOnSampler"),
            (.alwaysOff, "AlwaysOffSampler"),
            (.traceIDRatio(0.5), "TraceIdRatioBased{0.5}"),
            (.parentBasedAlwaysOn, "ParentBased{root=AlwaysOnSampler,"),
            (.parentBasedAlwaysOff, "ParentBased{root=AlwaysOffSampler,"),
            (.parentBasedTraceIDRatio(0.1), "ParentBased{root=TraceIdRatioBased{0.1},"),
        ]
        for (config, prefix) in expected {
            XCTAssertTrue(config.makeSampler().description.hasPrefix(prefix), "\(config)")
        }
    }
}
