import XCTest
@testable import Tracing

final class IDTests: XCTestCase {
    func testRandomIDsAreValidAndDistinct() {
        var traces = Set<TraceID>(), spans = Set<SpanID>()
        for _ in 0..<20_000 {
            let t = TraceID.random(), s = SpanID.random()
            XCTAssertTrue(t.isValid)
            XCTAssertTrue(s.isValid)
            traces.insert(t)
            spans.insert(s)
        }
        XCTAssertEqual(traces.count, 20_000)
        XCTAssertEqual(spans.count, 20_000)
    }

    func testRandomSkipsAllZeroDraws() {
        var g = ScriptedGenerator(values: [0, 0, 0, 7])
        XCTAssertEqual(TraceID.random(using: &g), TraceID(high: 0, low: 7))
        var h = ScriptedGenerator(values: [0, 0, 9])
        XCTAssertEqual(SpanID.random(using: &h), SpanID(9))
        var i = ScriptedGenerator(values: [5, 0])
        XCTAssertEqual(TraceID.random(using: &i), TraceID(high: 5, low: 0), "one non-zero half is enough")
    }

    func testTracerIDsUseBothHalvesAndDiffer() {
        let (t1, s1) = FastRandomNumberGenerator.traceAndSpanID()
        let (t2, s2) = FastRandomNumberGenerator.traceAndSpanID()
        XCTAssertNotEqual(t1, t2)
        XCTAssertNotEqual(s1, s2)
        XCTAssertTrue(t1.isValid && s1.isValid)
    }

    /// Reference values: SplitMix64 seeding (first output for seed 0 is the published 0xe220a8397b1dcdaf)
    /// followed by xoshiro256** as published by Blackman & Vigna.
    func testXoshiroMatchesReference() {
        var zero = Xoshiro256StarStar(seed: 0)
        XCTAssertEqual([zero.next(), zero.next(), zero.next()],
                       [0x99ec5f36cb75f2b4, 0xbf6e1f784956452a, 0x1a5f849d4933e6e0])
        var fortyTwo = Xoshiro256StarStar(seed: 42)
        XCTAssertEqual([fortyTwo.next(), fortyTwo.next(), fortyTwo.next()],
                       [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1])
    }

    func testXoshiroBitsLookUniform() {
        var g = Xoshiro256StarStar(seed: 1)
        var ones = [Int](repeating: 0, count: 64)
        let n = 20_000
        for _ in 0..<n {
            let v = g.next()
            for bit in 0..<64 where v & (1 << UInt64(bit)) != 0 { ones[bit] += 1 }
        }
        // Each bit is set with p = 1/2: 10000 ± 6σ (σ ≈ 71).
        for count in ones { XCTAssertTrue((9_570...10_430).contains(count), "\(count)") }
    }

    func testHexRoundTrip() throws {
        let t = TraceID(high: 0x4bf9_2f35_77b3_4da6, low: 0xa3ce_929d_0e0e_4736)
        XCTAssertEqual(t.hex, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(TraceID(hex: t.hex), t)
        XCTAssertEqual(TraceID(hex: "4BF92F3577B34DA6A3CE929D0E0E4736"), t, "OTLP/JSON ids are case-insensitive")
        let s = SpanID(0x00f0_67aa_0ba9_02b7)
        XCTAssertEqual(s.hex, "00f067aa0ba902b7")
        XCTAssertEqual(SpanID(hex: s.hex), s)
        XCTAssertEqual(t.description, t.hex)
        for _ in 0..<1000 {
            let r = TraceID.random(), q = SpanID.random()
            XCTAssertEqual(TraceID(hex: r.hex), r)
            XCTAssertEqual(SpanID(hex: q.hex), q)
        }
    }

    func testHexRejectsBadInput() {
        for bad in ["", "4bf92f3577b34da6a3ce929d0e0e473", "4bf92f3577b34da6a3ce929d0e0e47360",
                    "4bf92f3577b34da6a3ce929d0e0e473g", "4bf92f3577b34da6 3ce929d0e0e4736"] {
            XCTAssertNil(TraceID(hex: bad), bad)
        }
        for bad in ["", "00f067aa0ba902b", "00f067aa0ba902b70", "00f067aa0ba902bz", "-0f067aa0ba902b7"] {
            XCTAssertNil(SpanID(hex: bad), bad)
        }
    }

    func testBytesAreBigEndian() {
        let t = TraceID(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10)
        XCTAssertEqual(t.bytes, Array(1...16))
        XCTAssertEqual(TraceID(bytes: Array(1...16)), t)
        XCTAssertNil(TraceID(bytes: Array(1...15)))
        XCTAssertNil(TraceID(bytes: Array(1...17)))
        let s = SpanID(0x0102_0304_0506_0708)
        XCTAssertEqual(s.bytes, Array(1...8))
        XCTAssertEqual(SpanID(bytes: Array(1...8)), s)
        XCTAssertNil(SpanID(bytes: Array(1...7)))
        XCTAssertNil(SpanID(bytes: Array(1...9)))
    }

    func testValidity() {
        XCTAssertFalse(TraceID.invalid.isValid)
        XCTAssertFalse(SpanID.invalid.isValid)
        XCTAssertFalse(SpanContext(traceID: .invalid, spanID: SpanID(1)).isValid)
        XCTAssertFalse(SpanContext(traceID: TraceID(high: 0, low: 1), spanID: .invalid).isValid)
        XCTAssertTrue(SpanContext(traceID: TraceID(high: 0, low: 1), spanID: SpanID(1)).isValid)
    }
}
