import Synchronization
import XCTest
@testable import Tracing

/// A settable clock for start/collection times.
final class FakeClock: Sendable {
    private let now = Atomic<UInt64>(1_000)
    func set(_ value: UInt64) { now.store(value, ordering: .relaxed) }
    var read: @Sendable () -> UInt64 { { [self] in now.load(ordering: .relaxed) } }
}

extension MetricData {
    var numberPoints: [NumberDataPoint] {
        switch points {
        case .gauge(let p), .sum(let p, _, _): p
        case .histogram: []
        }
    }

    var histogramPoints: [HistogramDataPoint] {
        if case .histogram(let p, _) = points { return p }
        return []
    }

    func point(_ attributes: [Attribute]) -> NumberDataPoint? { numberPoints.first { $0.attributes == attributes } }
}

final class MetricsTests: XCTestCase {
    let a: [Attribute] = [Attribute("probe.target", "a")]
    let b: [Attribute] = [Attribute("probe.target", "b")]

    func metric(_ metrics: [MetricData], _ name: String) -> MetricData? { metrics.first { $0.name == name } }

    /// A value kept elsewhere is copied in before each collection, whichever reader collects.
    func testBeforeCollectRunsOnEveryCollection() {
        let registry = MetricsRegistry(scope: .test)
        let gauge = registry.gauge("copied")
        let source = Mutex(0)
        registry.beforeCollect { gauge.set(source.withLock { $0 += 1; return $0 }) }
        for expected in 1...3 {
            let point = registry.collect().first { $0.name == "copied" }
            guard case .gauge(let points)? = point?.points else { return XCTFail("no gauge") }
            XCTAssertEqual(points.first?.value, .int(Int64(expected)))
        }
        _ = registry.collect(temporality: .delta)
        XCTAssertEqual(source.withLock { $0 }, 4)
    }

    func testCounterSumsPerAttributeSet() throws {
        let registry = MetricsRegistry(scope: .test)
        let counter = registry.counter("probe.state.transitions", unit: "{transition}", description: "d")
        counter.add(attributes: a)
        counter.add(2, attributes: a)
        counter.add(5, attributes: b)
        counter.add(-3, attributes: a)  // ignored: monotonic
        let data = try XCTUnwrap(metric(registry.collect(), "probe.state.transitions"))
        XCTAssertEqual(data.unit, "{transition}")
        XCTAssertEqual(data.description, "d")
        guard case .sum(let points, let temporality, let monotonic) = data.points else { return XCTFail("\(data.points)") }
        XCTAssertEqual(temporality, .cumulative)
        XCTAssertTrue(monotonic)
        XCTAssertEqual(points.count, 2)
        XCTAssertEqual(data.point(a)?.value, .int(3))
        XCTAssertEqual(data.point(b)?.value, .int(5))
    }

    func testAttributeOrderDoesNotMatter() throws {
        let registry = MetricsRegistry(scope: .test)
        let counter = registry.counter("c")
        counter.add(1, attributes: [Attribute("x", 1), Attribute("y", "2")])
        counter.add(1, attributes: [Attribute("y", "2"), Attribute("x", 1)])
        counter.add(1, attributes: [Attribute("y", "2"), Attribute("x", 1), Attribute("x", 1)])
        counter.add(1, attributes: [Attribute("x", 2), Attribute("y", "2")])
        let data = try XCTUnwrap(metric(registry.collect(), "c"))
        XCTAssertEqual(data.numberPoints.count, 2)
        XCTAssertEqual(data.point([Attribute("x", 1), Attribute("y", "2")])?.value, .int(3))
        XCTAssertEqual(data.point([Attribute("x", 2), Attribute("y", "2")])?.value, .int(1))
    }

    func testCanonicalAttributes() {
        XCTAssertEqual(canonicalAttributes([]), [])
        XCTAssertEqual(canonicalAttributes([Attribute("b", 1), Attribute("a", 2)]), [Attribute("a", 2), Attribute("b", 1)])
        XCTAssertEqual(canonicalAttributes([Attribute("a", 1), Attribute("a", 2)]), [Attribute("a", 2)], "last duplicate wins")
        XCTAssertEqual(canonicalAttributes([Attribute("a", 1), Attribute("b", 2)]), [Attribute("a", 1), Attribute("b", 2)])
        XCTAssertEqual(canonicalAttributes([Attribute("c", 1), Attribute("a", 1), Attribute("c", 2), Attribute("b", 1), Attribute("a", 2)]),
                       [Attribute("a", 2), Attribute("b", 1), Attribute("c", 2)])
        XCTAssertEqual(canonicalAttributes([Attribute("z", 1)]), [Attribute("z", 1)])
    }

    func testDoubleCounter() throws {
        let registry = MetricsRegistry(scope: .test)
        let counter = registry.doubleCounter("bytes")
        counter.add(1.5)
        counter.add(2.25)
        counter.add(-1)
        counter.add(.nan)
        counter.add(.infinity)
        XCTAssertEqual(metric(registry.collect(), "bytes")?.numberPoints.first?.value, .double(3.75))
    }

    func testGaugeKeepsLastValue() throws {
        let registry = MetricsRegistry(scope: .test)
        let gauge = registry.gauge("probe.success")
        gauge.set(1, attributes: a)
        gauge.set(0, attributes: a)
        gauge.set(1.5, attributes: b)
        gauge.set(Int64(7), attributes: b)
        let data = try XCTUnwrap(metric(registry.collect(), "probe.success"))
        guard case .gauge = data.points else { return XCTFail() }
        XCTAssertEqual(data.point(a)?.value, .int(0))
        XCTAssertEqual(data.point(b)?.value, .int(7))
        gauge.remove(attributes: b)
        XCTAssertEqual(metric(registry.collect(), "probe.success")?.numberPoints.count, 1)
    }

    func testHistogramBucketBoundaries() throws {
        let registry = MetricsRegistry(scope: .test)
        let histogram = registry.histogram("h", bounds: [1, 2, 5])
        // bucket i holds (b[i-1], b[i]]
        let cases: [(Double, Int)] = [(-1, 0), (0, 0), (0.5, 0), (1, 0), (1.000001, 1), (2, 1), (2.5, 2), (5, 2),
                                      (5.000001, 3), (1e9, 3), (.infinity, 3), (-.infinity, 0)]
        for (value, bucket) in cases {
            XCTAssertEqual(histogram.bucketIndex(value), bucket, "\(value)")
        }
        for (value, _) in cases where value.isFinite && value >= 0 { histogram.record(value) }
        histogram.record(.nan)
        let point = try XCTUnwrap(metric(registry.collect(), "h")?.histogramPoints.first)
        XCTAssertEqual(point.explicitBounds, [1, 2, 5])
        XCTAssertEqual(point.bucketCounts, [3, 2, 2, 2])
        XCTAssertEqual(point.count, 9)
        XCTAssertEqual(point.count, point.bucketCounts.reduce(0, +))
        XCTAssertEqual(point.bucketCounts.count, point.explicitBounds.count + 1)
        XCTAssertEqual(point.sum ?? 0, 0 + 0.5 + 1 + 1.000001 + 2 + 2.5 + 5 + 5.000001 + 1e9, accuracy: 1e-6)
        XCTAssertEqual(point.min, 0)
        XCTAssertEqual(point.max, 1e9)
    }

    func testHistogramNegativeValuesOmitSum() throws {
        let registry = MetricsRegistry(scope: .test)
        let histogram = registry.histogram("h", bounds: [0])
        histogram.record(-2)
        histogram.record(3)
        let point = try XCTUnwrap(metric(registry.collect(), "h")?.histogramPoints.first)
        XCTAssertNil(point.sum)
        XCTAssertEqual(point.min, -2)
        XCTAssertEqual(point.max, 3)
        XCTAssertEqual(point.bucketCounts, [1, 1])
    }

    func testHistogramBoundsAreSanitisedAndDefaulted() {
        let registry = MetricsRegistry(scope: .test)
        XCTAssertEqual(registry.histogram("a", bounds: [5, 1, 1, .nan, 2, .infinity]).bounds, [1, 2, 5])
        let d = registry.histogram("probe.duration")
        XCTAssertEqual(d.bounds, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
        XCTAssertEqual(d.unit, "s")
        let none = registry.histogram("none", bounds: [])
        none.record(3)
        let point = registry.collect().first { $0.name == "none" }?.histogramPoints.first
        XCTAssertEqual(point?.bucketCounts, [1])
        XCTAssertEqual(point?.explicitBounds, [])
    }

    func testCumulativeKeepsStartTimePerStream() throws {
        let clock = FakeClock()
        let registry = MetricsRegistry(scope: .test, clock: clock.read)
        let counter = registry.counter("c")
        let histogram = registry.histogram("h")
        clock.set(2_000)
        counter.add(1, attributes: a)
        histogram.record(0.1, attributes: a)
        clock.set(3_000)
        counter.add(1, attributes: b)
        clock.set(4_000)
        let first = registry.collect()
        clock.set(5_000)
        counter.add(1, attributes: a)
        histogram.record(0.2, attributes: a)
        clock.set(6_000)
        let second = registry.collect(temporality: .cumulative)
        for (metrics, time) in [(first, UInt64(4_000)), (second, 6_000)] {
            let c = try XCTUnwrap(metric(metrics, "c"))
            XCTAssertEqual(c.point(a)?.startTimeUnixNano, 2_000)
            XCTAssertEqual(c.point(b)?.startTimeUnixNano, 3_000)
            XCTAssertEqual(c.point(a)?.timeUnixNano, time)
            XCTAssertEqual(metric(metrics, "h")?.histogramPoints.first?.startTimeUnixNano, 2_000)
        }
        XCTAssertEqual(metric(second, "c")?.point(a)?.value, .int(2), "cumulative keeps adding")
        XCTAssertEqual(metric(second, "h")?.histogramPoints.first?.count, 2)
    }

    func testDeltaResetsAndStartsAtPreviousCollection() throws {
        let clock = FakeClock()
        let registry = MetricsRegistry(scope: .test, clock: clock.read)  // created at 1000
        let counter = registry.counter("c")
        let histogram = registry.histogram("h")
        let gauge = registry.gauge("g")
        clock.set(2_000)
        counter.add(3, attributes: a)
        histogram.record(0.3)
        gauge.set(1, attributes: a)
        gauge.set(2, attributes: b)
        clock.set(3_000)
        let first = registry.collect(temporality: .delta)
        let c1 = try XCTUnwrap(metric(first, "c"))
        guard case .sum(_, let temporality, true) = c1.points else { return XCTFail() }
        XCTAssertEqual(temporality, .delta)
        XCTAssertEqual(c1.point(a)?.value, .int(3))
        XCTAssertEqual(c1.point(a)?.startTimeUnixNano, 1_000)
        XCTAssertEqual(c1.point(a)?.timeUnixNano, 3_000)
        guard case .histogram(_, .delta) = try XCTUnwrap(metric(first, "h")).points else { return XCTFail() }
        XCTAssertEqual(metric(first, "g")?.numberPoints.count, 2)

        clock.set(4_000)
        gauge.set(5, attributes: a)
        clock.set(5_000)
        let second = registry.collect(temporality: .delta)
        XCTAssertNil(metric(second, "c"), "nothing recorded since the last collection")
        XCTAssertNil(metric(second, "h"))
        let g2 = try XCTUnwrap(metric(second, "g"))
        XCTAssertEqual(g2.numberPoints.count, 1, "only gauges set since the last collection")
        XCTAssertEqual(g2.point(a)?.value, .int(5))

        counter.add(4, attributes: a)
        histogram.record(0.4)
        clock.set(6_000)
        let third = registry.collect(temporality: .lowMemory)
        XCTAssertEqual(metric(third, "c")?.point(a)?.value, .int(4), "delta counts only the new increments")
        XCTAssertEqual(metric(third, "c")?.point(a)?.startTimeUnixNano, 5_000)
        let h3 = try XCTUnwrap(metric(third, "h")?.histogramPoints.first)
        XCTAssertEqual(h3.count, 1)
        XCTAssertEqual(h3.min, 0.4)
        XCTAssertEqual(h3.startTimeUnixNano, 5_000)
    }

    /// A `/metrics` scrape (cumulative) between two OTLP delta collections neither resets the
    /// totals nor shifts the delta interval; a delta histogram's min/max cover its interval only.
    func testCumulativeAndDeltaReadersShareOneRegistry() throws {
        let clock = FakeClock()
        let registry = MetricsRegistry(scope: .test, clock: clock.read)  // created at 1000
        let counter = registry.counter("c"), histogram = registry.histogram("h")
        let gauge = registry.gauge("g")
        clock.set(2_000)
        counter.add(3, attributes: a)
        histogram.record(0.1, attributes: a)
        histogram.record(0.9, attributes: a)
        gauge.set(1, attributes: a)
        clock.set(3_000)
        let delta1 = registry.collect(temporality: .delta)
        XCTAssertEqual(metric(delta1, "c")?.point(a)?.value, .int(3))
        XCTAssertEqual(metric(delta1, "h")?.histogramPoints.first?.max, 0.9)

        clock.set(4_000)
        counter.add(2, attributes: a)
        histogram.record(0.5, attributes: a)
        let scrape = registry.collect()  // cumulative, between the two delta collections
        XCTAssertEqual(metric(scrape, "c")?.point(a)?.value, .int(5))
        XCTAssertEqual(metric(scrape, "c")?.point(a)?.startTimeUnixNano, 2_000, "cumulative: from the series' start")
        XCTAssertEqual(metric(scrape, "h")?.histogramPoints.first?.count, 3)
        XCTAssertEqual(metric(scrape, "h")?.histogramPoints.first?.min, 0.1)
        XCTAssertEqual(metric(scrape, "g")?.point(a)?.value, .int(1), "gauges stay visible to cumulative readers")

        clock.set(5_000)
        counter.add(1, attributes: a)
        let delta2 = registry.collect(temporality: .delta)
        let c2 = try XCTUnwrap(metric(delta2, "c")?.point(a))
        XCTAssertEqual(c2.value, .int(3), "2 + 1 since the first delta collection")
        XCTAssertEqual(c2.startTimeUnixNano, 3_000, "from the previous delta collection, not the scrape")
        let h2 = try XCTUnwrap(metric(delta2, "h")?.histogramPoints.first)
        XCTAssertEqual(h2.count, 1)
        XCTAssertEqual(h2.sum ?? 0, 0.5, accuracy: 1e-12)
        XCTAssertEqual(h2.min, 0.5)
        XCTAssertEqual(h2.max, 0.5)
        XCTAssertEqual(h2.bucketCounts.reduce(0, +), 1)
        XCTAssertNil(metric(delta2, "g"), "the gauge was not set in this interval")

        let scrape2 = registry.collect()
        XCTAssertEqual(metric(scrape2, "c")?.point(a)?.value, .int(6), "totals survive delta collections")
        XCTAssertEqual(metric(scrape2, "h")?.histogramPoints.first?.count, 3)
        XCTAssertEqual(metric(scrape2, "h")?.histogramPoints.first?.max, 0.9)
    }

    func testTemporalityPreference() {
        let table: [(TemporalityPreference, InstrumentKind, AggregationTemporality)] = [
            (.cumulative, .counter, .cumulative), (.cumulative, .histogram, .cumulative),
            (.delta, .counter, .delta), (.delta, .histogram, .delta),
            (.lowMemory, .counter, .delta), (.lowMemory, .histogram, .delta),
        ]
        for (preference, kind, expected) in table {
            XCTAssertEqual(preference.temporality(for: kind), expected, "\(preference) \(kind)")
        }
    }

    func testGaugesStayGaugesUnderEveryPreference() {
        for preference in TemporalityPreference.allCases {
            let registry = MetricsRegistry(scope: .test)
            registry.gauge("g").set(1)
            guard case .gauge = registry.collect(temporality: preference).first?.points else {
                return XCTFail("\(preference)")
            }
        }
    }

    func testSameNameAndKindIsOneInstrument() {
        let registry = MetricsRegistry(scope: .test)
        let first = registry.counter("c", unit: "1")
        let again = registry.counter("c", unit: "other")
        XCTAssertTrue(first === again)
        first.add(1)
        again.add(1)
        let sameName = registry.gauge("c")
        sameName.set(9)
        let metrics = registry.collect()
        XCTAssertEqual(metrics.count, 2, "another kind under the same name is another stream")
        XCTAssertEqual(metrics.first?.numberPoints.first?.value, .int(2))
        XCTAssertEqual(metrics.first?.unit, "1")
    }

    func testEmptyInstrumentsAreNotCollected() {
        let registry = MetricsRegistry(scope: InstrumentationScope(name: "x", version: "1"))
        _ = registry.counter("unused")
        registry.histogram("used").record(1)
        let metrics = registry.collect()
        XCTAssertEqual(metrics.map(\.name), ["used"])
        XCTAssertEqual(metrics.first?.scope, InstrumentationScope(name: "x", version: "1"))
    }

    func testCardinalityLimitFoldsIntoOverflowSeries() throws {
        let registry = MetricsRegistry(scope: .test, cardinalityLimit: 3)
        let counter = registry.counter("c")
        for i in 0..<5 { counter.add(1, attributes: [Attribute("i", .int(i))]) }
        counter.add(10, attributes: [Attribute("i", 0)])  // an existing series keeps counting
        let data = try XCTUnwrap(metric(registry.collect(), "c"))
        XCTAssertEqual(data.numberPoints.count, 3)
        XCTAssertEqual(data.point([Attribute("i", 0)])?.value, .int(11))
        XCTAssertEqual(data.point([Attribute("i", 1)])?.value, .int(1))
        XCTAssertEqual(data.point([Attribute("otel.metric.overflow", true)])?.value, .int(3))
    }

    /// A bound series writes the same series as the attribute path, survives its series being
    /// removed or reset by a delta collection (the next write recreates it), and folds into the
    /// overflow series past the cardinality limit.
    func testBoundSeries() throws {
        let clock = FakeClock()
        let registry = MetricsRegistry(scope: .test, cardinalityLimit: 3, clock: clock.read)
        let counter = registry.counter("c"), gauge = registry.gauge("g"), histogram = registry.histogram("h")
        let unsorted = [Attribute("y", "2"), Attribute("x", 1)]
        let sorted = [Attribute("x", 1), Attribute("y", "2")]
        let boundCounter = counter.series(unsorted), boundGauge = gauge.series(unsorted), boundHistogram = histogram.series(a)
        _ = registry.counter("c").series(b)  // bound, never written
        XCTAssertTrue(registry.collect().isEmpty, "binding alone creates no series")
        boundCounter.add(2)
        boundCounter.add(-1)  // ignored: monotonic
        counter.add(3, attributes: sorted)
        boundGauge.set(7)
        boundGauge.set(0.5)
        boundHistogram.record(0.2)
        boundHistogram.record(.nan)  // ignored
        histogram.record(0.4, attributes: a)
        var data = registry.collect()
        XCTAssertEqual(metric(data, "c")?.point(sorted)?.value, .int(5))
        XCTAssertEqual(metric(data, "g")?.point(sorted)?.value, .double(0.5))
        XCTAssertEqual(metric(data, "h")?.histogramPoints.first?.count, 2)

        counter.remove(attributes: sorted)
        XCTAssertNil(metric(registry.collect(), "c"))
        clock.set(9_000)
        boundCounter.add(1)
        data = registry.collect()
        XCTAssertEqual(metric(data, "c")?.point(sorted)?.value, .int(1), "recreated from zero after removal")
        XCTAssertEqual(metric(data, "c")?.point(sorted)?.startTimeUnixNano, 9_000)

        _ = registry.collect(temporality: .delta)
        boundHistogram.record(0.3)
        let delta = registry.collect(temporality: .delta)
        XCTAssertEqual(metric(delta, "h")?.histogramPoints.first?.count, 1, "only what was recorded since the reset")
        XCTAssertEqual(metric(delta, "h")?.histogramPoints.first?.min, 0.3)

        counter.add(1, attributes: a)
        counter.add(1, attributes: b)  // `sorted` and `a` exist: the limit of 3 (2 + overflow) is reached
        let late = counter.series([Attribute("probe.target", "late")])
        late.add(4)
        data = registry.collect()
        XCTAssertEqual(metric(data, "c")?.point([Attribute("otel.metric.overflow", true)])?.value, .int(5))
        XCTAssertNil(metric(data, "c")?.point([Attribute("probe.target", "late")]))
    }

    func testConcurrentRecordingLosesNothing() async throws {
        let registry = MetricsRegistry(scope: .test)
        let counter = registry.counter("c")
        let histogram = registry.histogram("h")
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<4 {
                group.addTask {
                    for i in 0..<2500 {
                        counter.add(1, attributes: [Attribute("t", .int(t % 2))])
                        histogram.record(Double(i % 10) / 10)
                    }
                }
            }
            group.addTask { for _ in 0..<50 { _ = registry.collect() } }
        }
        let metrics = registry.collect()
        let total = metric(metrics, "c")?.numberPoints.reduce(Int64(0)) { sum, p in
            if case .int(let v) = p.value { return sum + v } else { return sum }
        }
        XCTAssertEqual(total, 10_000)
        XCTAssertEqual(metric(metrics, "h")?.histogramPoints.first?.count, 10_000)
    }

    /// The probe metric set of the design, expressed with these instruments.
    func testProbeMetricSetIsExpressible() throws {
        let registry = MetricsRegistry(scope: .test)
        let target: [Attribute] = [Attribute("health.probe_type", "authenticated"), Attribute("mcp.transport", "streamable_http"),
                                   Attribute("probe.target", "payments-mcp")]
        registry.gauge("probe.success", unit: "1").set(1, attributes: target)
        registry.histogram("probe.duration", unit: "s").record(0.42, attributes: target)
        registry.gauge("probe.http.status_code").set(401, attributes: target)
        let phases = registry.histogram("probe.http.phase.duration", unit: "s")
        for (phase, seconds) in [("dns", 0.002), ("connect", 0.01), ("tls", 0.03), ("first_byte", 0.2)] {
            phases.record(seconds, attributes: target + [Attribute("phase", .string(phase))])
        }
        registry.gauge("probe.tls.cert.not_after", unit: "s").set(Int64(1_800_000_000), attributes: target)
        registry.gauge("probe.consecutive_failures").set(0, attributes: target)
        registry.counter("probe.state.transitions").add(1, attributes: target)
        registry.counter("probe.target.restarts").add(1, attributes: target)
        let metrics = registry.collect()
        XCTAssertEqual(metrics.map(\.name), ["probe.success", "probe.duration", "probe.http.status_code",
                                             "probe.http.phase.duration", "probe.tls.cert.not_after",
                                             "probe.consecutive_failures", "probe.state.transitions", "probe.target.restarts"])
        XCTAssertEqual(metric(metrics, "probe.http.phase.duration")?.histogramPoints.count, 4)
        let dns = metric(metrics, "probe.http.phase.duration")?.histogramPoints
            .first { $0.attributes.contains(Attribute("phase", "dns")) }
        XCTAssertEqual(dns?.bucketCounts[0], 1)
        XCTAssertEqual(dns?.attributes.map(\.key), ["health.probe_type", "mcp.transport", "phase", "probe.target"])
        XCTAssertEqual(metric(metrics, "probe.tls.cert.not_after")?.numberPoints.first?.value, .int(1_800_000_000))
    }
}
