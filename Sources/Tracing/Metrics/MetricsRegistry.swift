import Synchronization

/// Creates instruments and snapshots them into `MetricData`. Recording touches only the
/// instrument's own mutex; `collect` visits instruments one at a time.
///
/// Asking again for an instrument of the same name and kind returns the first one (its unit,
/// description and bounds win); the same name with another kind gives a second, separate stream.
public final class MetricsRegistry: Sendable {
    public let scope: InstrumentationScope
    /// Series per instrument, overflow series included.
    public let cardinalityLimit: Int
    private let clock: @Sendable () -> UInt64
    private let state: Mutex<State>

    private struct State {
        var instruments: [any CollectableInstrument] = []
        /// Run before every collection (`beforeCollect`).
        var refreshers: [@Sendable () -> Void] = []
        /// When the previous delta collection ran (the start of the next delta interval).
        var lastDeltaCollection: UInt64
    }

    /// `scope`: the caller's name for what it instruments.
    public init(scope: InstrumentationScope, cardinalityLimit: Int = 2000,
                clock: @escaping @Sendable () -> UInt64 = wallClockUnixNano) {
        self.scope = scope
        self.cardinalityLimit = cardinalityLimit
        self.clock = clock
        self.state = Mutex(State(lastDeltaCollection: clock()))
    }

    public func counter(_ name: String, unit: String = "", description: String = "") -> Counter {
        register(name) { Counter(name: name, unit: unit, description: description,
                                 cardinalityLimit: cardinalityLimit, clock: clock) }
    }

    package func doubleCounter(_ name: String, unit: String = "", description: String = "") -> DoubleCounter {
        register(name) { DoubleCounter(name: name, unit: unit, description: description,
                                       cardinalityLimit: cardinalityLimit, clock: clock) }
    }

    public func gauge(_ name: String, unit: String = "", description: String = "") -> Gauge {
        register(name) { Gauge(name: name, unit: unit, description: description,
                               cardinalityLimit: cardinalityLimit, clock: clock) }
    }

    /// `bounds` are sorted and de-duplicated; non-finite bounds are dropped.
    public func histogram(_ name: String, unit: String = "s", description: String = "",
                          bounds: [Double] = Histogram.defaultSecondsBounds) -> Histogram {
        register(name) { Histogram(name: name, unit: unit, description: description, bounds: bounds,
                                   cardinalityLimit: cardinalityLimit, clock: clock) }
    }

    /// One snapshot of every instrument with data. Cumulative points are running totals from the
    /// time their series started. Delta points are the change since the previous delta
    /// collection, from its time (a series new since then: from its own start); cumulative
    /// collections in between (a `/metrics` scrape) neither see nor disturb them. One delta
    /// reader per registry.
    public func collect(temporality preference: TemporalityPreference = .cumulative) -> [MetricData] {
        for refresh in state.withLock({ $0.refreshers }) { refresh() }
        let now = clock()
        let (instruments, previous) = state.withLock { s in
            let previous = s.lastDeltaCollection
            if preference != .cumulative { s.lastDeltaCollection = now }
            return (s.instruments, previous)
        }
        let interval = CollectionInterval(preference: preference, previous: previous, now: now)
        return instruments.compactMap { $0.collect(interval, scope: scope) }
    }

    /// `refresh` runs before every collection, for whatever reader asks (a scrape, the OTLP
    /// reader): values kept elsewhere and copied into instruments stay current on every path.
    public func beforeCollect(_ refresh: @escaping @Sendable () -> Void) {
        state.withLock { $0.refreshers.append(refresh) }
    }

    private func register<I: CollectableInstrument>(_ name: String, _ make: () -> I) -> I {
        state.withLock { s in
            if let existing = s.instruments.lazy.compactMap({ $0 as? I }).first(where: { $0.name == name }) {
                return existing
            }
            let instrument = make()
            s.instruments.append(instrument)
            return instrument
        }
    }
}

struct CollectionInterval {
    var preference: TemporalityPreference
    var previous: UInt64
    var now: UInt64
}

protocol CollectableInstrument: AnyObject, Sendable {
    var name: String { get }
    func collect(_ interval: CollectionInterval, scope: InstrumentationScope) -> MetricData?
}

extension SeriesStore {
    /// Gauges: every series, or under a delta preference only those set since the last delta collection.
    func collectGauge(_ interval: CollectionInterval) -> [Snapshot] {
        guard interval.preference != .cumulative else { return collect() }
        var points = collectUpdated()
        for i in points.indices { points[i].start = interval.previous }
        return points
    }
}

extension SeriesStore where Value: DeltaAggregate {
    /// Sums and histograms in the temporality the preference gives them.
    func collect(_ kind: InstrumentKind, _ interval: CollectionInterval)
        -> (points: [Snapshot], temporality: AggregationTemporality) {
        let temporality = interval.preference.temporality(for: kind)
        return (temporality == .delta ? collectDeltas(previous: interval.previous) : collect(), temporality)
    }
}

extension SeriesStore where Value: DeltaAggregate {
    /// A monotonic sum (Counter, DoubleCounter: they differ only in the value type).
    func monotonicSum(name: String, description: String, unit: String, scope: InstrumentationScope,
                      _ interval: CollectionInterval, value: (Value) -> NumberValue) -> MetricData? {
        let (points, temporality) = collect(.counter, interval)
        guard !points.isEmpty else { return nil }
        return MetricData(name: name, description: description, unit: unit, scope: scope, points: .sum(
            points.map { NumberDataPoint(attributes: $0.attributes, startTimeUnixNano: $0.start,
                                         timeUnixNano: interval.now, value: value($0.value)) },
            temporality: temporality, isMonotonic: true))
    }
}

extension Counter: CollectableInstrument {
    func collect(_ interval: CollectionInterval, scope: InstrumentationScope) -> MetricData? {
        store.monotonicSum(name: name, description: description, unit: unit, scope: scope, interval) { .int($0) }
    }
}

extension DoubleCounter: CollectableInstrument {
    func collect(_ interval: CollectionInterval, scope: InstrumentationScope) -> MetricData? {
        store.monotonicSum(name: name, description: description, unit: unit, scope: scope, interval) { .double($0) }
    }
}

extension Gauge: CollectableInstrument {
    func collect(_ interval: CollectionInterval, scope: InstrumentationScope) -> MetricData? {
        let points = store.collectGauge(interval)
        guard !points.isEmpty else { return nil }
        return MetricData(name: name, description: description, unit: unit, scope: scope, points: .gauge(
            points.map { NumberDataPoint(attributes: $0.attributes, startTimeUnixNano: $0.start,
                                         timeUnixNano: interval.now, value: $0.value) }))
    }
}

extension Histogram: CollectableInstrument {
    func collect(_ interval: CollectionInterval, scope: InstrumentationScope) -> MetricData? {
        let (points, temporality) = store.collect(.histogram, interval)
        guard !points.isEmpty else { return nil }
        return MetricData(name: name, description: description, unit: unit, scope: scope, points: .histogram(
            points.map { p in
                HistogramDataPoint(attributes: p.attributes, startTimeUnixNano: p.start, timeUnixNano: interval.now,
                                   count: p.value.count, sum: p.value.hasNegative ? nil : p.value.sum,
                                   min: p.value.min, max: p.value.max,
                                   bucketCounts: p.value.bucketCounts, explicitBounds: bounds)
            }, temporality: temporality))
    }
}
