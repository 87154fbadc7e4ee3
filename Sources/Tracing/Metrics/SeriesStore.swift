import Synchronization

/// The per-attribute-set state of one instrument behind one mutex. Attribute order does not
/// matter: keys are canonicalised (sorted by key, last duplicate wins), which costs nothing when
/// callers already pass sorted attributes. Past `cardinalityLimit` series, new attribute sets
/// share one overflow series marked `otel.metric.overflow=true`, as the SDK spec prescribes.
final class SeriesStore<Value: Sendable>: Sendable {
    struct Series {
        var start: UInt64
        var value: Value
        var updated: Bool
    }

    struct Snapshot {
        var attributes: [Attribute]
        var start: UInt64
        var value: Value
    }

    private let state = Mutex<[[Attribute]: Series]>([:])
    private let initial: Value
    private let cardinalityLimit: Int
    private let clock: @Sendable () -> UInt64

    static var overflowAttributes: [Attribute] { [Attribute("otel.metric.overflow", .bool(true))] }

    init(initial: Value, cardinalityLimit: Int, clock: @escaping @Sendable () -> UInt64) {
        self.initial = initial
        self.cardinalityLimit = max(1, cardinalityLimit)
        self.clock = clock
    }

    @inline(__always)
    func update(_ attributes: [Attribute], _ body: (inout Value) -> Void) {
        var key = canonicalAttributes(attributes)
        state.withLock { series in
            if series.count >= cardinalityLimit - 1, series[key] == nil { key = Self.overflowAttributes }
            func apply(_ entry: inout Series) {
                entry.updated = true
                body(&entry.value)
            }
            // One hash lookup, mutated in place; `clock` runs only for a new series.
            apply(&series[key, default: Series(start: clock(), value: initial, updated: true)])
        }
    }

    func remove(_ attributes: [Attribute]) {
        let key = canonicalAttributes(attributes)
        _ = state.withLock { $0.removeValue(forKey: key) }
    }

    /// Every series (`onlyUpdated`: only those updated since the last collection); with `reset`
    /// the store is emptied, as delta temporality needs.
    func collect(onlyUpdated: Bool, reset: Bool) -> [Snapshot] {
        state.withLock { series in
            var out = [Snapshot]()
            out.reserveCapacity(series.count)
            for (key, entry) in series where entry.updated || !onlyUpdated {
                out.append(Snapshot(attributes: key, start: entry.start, value: entry.value))
            }
            if reset {
                series.removeAll(keepingCapacity: true)
            } else if onlyUpdated {
                for key in series.keys { series[key]!.updated = false }
            }
            return out
        }
    }
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
