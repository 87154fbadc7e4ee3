import Synchronization

/// What a delta collection needs of a running total: the change since an earlier total.
protocol DeltaAggregate: Sendable {
    /// The change from `base` (an earlier state of the same series) to `self`; nil when nothing changed.
    func delta(since base: Self) -> Self?
    /// Called after a delta collection has read the series (histograms restart their interval min/max).
    mutating func startDeltaInterval()
}

/// The per-attribute-set state of one instrument behind one mutex. Attribute order does not
/// matter: keys are canonicalised (sorted by key, last duplicate wins), which costs nothing when
/// callers already pass sorted attributes. Past `cardinalityLimit` series, new attribute sets
/// share one overflow series marked `otel.metric.overflow=true`, as the SDK spec prescribes.
///
/// Values are running totals and are never reset: a delta collection reports the change since
/// the previous delta collection (`deltaBase`), so cumulative readers (the `/metrics` scrape)
/// and a delta reader (OTLP with delta temporality) can share one registry.
final class SeriesStore<Value: Sendable>: Sendable {
    /// One series' state; fields are guarded by the store's mutex.
    final class Cell: @unchecked Sendable {
        var start: UInt64
        var value: Value
        /// Set by every update, cleared by a delta collection of gauges.
        var updated = true
        /// The total the previous delta collection saw; nil before the first.
        var deltaBase: Value?
        /// false once removed from the store.
        var live = true

        init(start: UInt64, value: Value) {
            self.start = start
            self.value = value
        }
    }

    /// A series bound to its attribute set: updates skip canonicalising and hashing the
    /// attributes. The series exists from the first update on (binding alone creates nothing),
    /// and the binding stays valid when the series is removed: the next update recreates it.
    final class Binding: @unchecked Sendable {
        let key: [Attribute]
        /// Guarded by the store's mutex.
        var cell: Cell?

        init(key: [Attribute]) { self.key = key }
    }

    struct Snapshot {
        var attributes: [Attribute]
        var start: UInt64
        var value: Value
    }

    private let state = Mutex<[[Attribute]: Cell]>([:])
    private let initial: Value
    private let cardinalityLimit: Int
    private let clock: @Sendable () -> UInt64

    static var overflowAttributes: [Attribute] { [Attribute("otel.metric.overflow", .bool(true))] }

    init(initial: Value, cardinalityLimit: Int, clock: @escaping @Sendable () -> UInt64) {
        self.initial = initial
        self.cardinalityLimit = max(1, cardinalityLimit)
        self.clock = clock
    }

    /// The live cell for `key`, created if needed (the overflow series past the cardinality limit).
    private func cell(_ key: [Attribute], in series: inout [[Attribute]: Cell]) -> Cell {
        if let cell = series[key] { return cell }
        let key = series.count >= cardinalityLimit - 1 ? Self.overflowAttributes : key
        if let overflow = series[key] { return overflow }
        let cell = Cell(start: clock(), value: initial)
        series[key] = cell
        return cell
    }

    @inline(__always)
    func update(_ attributes: [Attribute], _ body: (inout Value) -> Void) {
        let key = canonicalAttributes(attributes)
        state.withLock { series in
            let cell = cell(key, in: &series)
            cell.updated = true
            body(&cell.value)
        }
    }

    func bind(_ attributes: [Attribute]) -> Binding { Binding(key: canonicalAttributes(attributes)) }

    @inline(__always)
    func update(_ binding: Binding, _ body: (inout Value) -> Void) {
        state.withLock { series in
            let cell: Cell
            if let bound = binding.cell, bound.live {
                cell = bound
            } else {
                cell = self.cell(binding.key, in: &series)
                binding.cell = cell
            }
            cell.updated = true
            body(&cell.value)
        }
    }

    func remove(_ attributes: [Attribute]) {
        let key = canonicalAttributes(attributes)
        state.withLock { $0.removeValue(forKey: key)?.live = false }
    }

    /// Every series with its running total.
    func collect() -> [Snapshot] {
        state.withLock { series in
            series.map { Snapshot(attributes: $0.key, start: $0.value.start, value: $0.value.value) }
        }
    }

    /// The series updated since the previous call, with their last values (gauges' delta view).
    func collectUpdated() -> [Snapshot] {
        state.withLock { series in
            var out = [Snapshot]()
            for (key, cell) in series where cell.updated {
                out.append(Snapshot(attributes: key, start: cell.start, value: cell.value))
                cell.updated = false
            }
            return out
        }
    }
}

extension SeriesStore where Value: DeltaAggregate {
    /// The change of every series since the previous call, starting at `previous` (a series new
    /// since then reports its whole total); unchanged series are left out.
    func collectDeltas(previous: UInt64) -> [Snapshot] {
        state.withLock { series in
            var out = [Snapshot]()
            for (key, cell) in series {
                let change = cell.deltaBase.map { cell.value.delta(since: $0) } ?? cell.value
                cell.deltaBase = cell.value
                cell.value.startDeltaInterval()
                if let change { out.append(Snapshot(attributes: key, start: previous, value: change)) }
            }
            return out
        }
    }
}

extension Int64: DeltaAggregate {
    func delta(since base: Int64) -> Int64? { self == base ? nil : self &- base }
    mutating func startDeltaInterval() {}
}

extension Double: DeltaAggregate {
    func delta(since base: Double) -> Double? { self == base ? nil : self - base }
    mutating func startDeltaInterval() {}
}

/// Attributes sorted by key with unique keys (the last of duplicates wins).
@inline(__always)
func canonicalAttributes(_ attributes: [Attribute]) -> [Attribute] {
    var i = 1
    while i < attributes.count, attributes[i - 1].key < attributes[i].key { i += 1 }
    return i >= attributes.count ? attributes : sortedUnique(attributes)
}

/// Stable insertion sort (attribute lists are short), then keeps the last of each run of equal keys.
private func sortedUnique(_ attributes: [Attribute]) -> [Attribute] {
    var sorted = attributes
    for i in 1..<sorted.count {
        var j = i
        while j > 0, sorted[j].key < sorted[j - 1].key {
            sorted.swapAt(j, j - 1)
            j -= 1
        }
    }
    var kept = 0
    for r in sorted.indices {
        if kept > 0, sorted[kept - 1].key == sorted[r].key {
            sorted[kept - 1] = sorted[r]
        } else {
            sorted[kept] = sorted[r]
            kept += 1
        }
    }
    sorted.removeLast(sorted.count - kept)
    return sorted
}
