/// An explicit-bucket histogram: count, sum, min, max and counts per bucket (b[i-1], b[i]].
public final class Histogram: Sendable {
    /// Seconds, from 5 ms to 10 s: probe and HTTP phase durations.
    public static let defaultSecondsBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public let name: String
    public let unit: String
    public let description: String
    /// Strictly increasing and finite.
    public let bounds: [Double]
    let store: SeriesStore<HistogramState>

    init(name: String, unit: String, description: String, bounds: [Double], cardinalityLimit: Int,
         clock: @escaping @Sendable () -> UInt64) {
        self.name = name
        self.unit = unit
        self.description = description
        self.bounds = Array(Set(bounds.filter(\.isFinite))).sorted()
        self.store = SeriesStore(initial: HistogramState(bucketCount: self.bounds.count + 1),
                                 cardinalityLimit: cardinalityLimit, clock: clock)
    }

    /// NaN is ignored.
    public func record(_ value: Double, attributes: [Attribute] = []) {
        guard !value.isNaN else { return }
        let bucket = bucketIndex(value)
        store.update(attributes) { $0.record(value, bucket: bucket) }
    }

    public func remove(attributes: [Attribute]) { store.remove(attributes) }

    /// One attribute set, bound once: recording through it skips hashing the attributes.
    public struct Series: Sendable {
        let histogram: Histogram
        let binding: SeriesStore<HistogramState>.Binding

        /// NaN is ignored.
        public func record(_ value: Double) {
            guard !value.isNaN else { return }
            let bucket = histogram.bucketIndex(value)
            histogram.store.update(binding) { $0.record(value, bucket: bucket) }
        }
    }

    public func series(_ attributes: [Attribute]) -> Series { Series(histogram: self, binding: store.bind(attributes)) }

    /// The first bucket whose upper bound is ≥ value; the last (overflow) bucket otherwise.
    func bucketIndex(_ value: Double) -> Int {
        var low = 0, high = bounds.count
        while low < high {
            let mid = (low + high) / 2
            if value <= bounds[mid] { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

struct HistogramState: Sendable {
    var count: UInt64 = 0
    var sum: Double = 0
    var min: Double = .infinity
    var max: Double = -.infinity
    var hasNegative = false
    var bucketCounts: [UInt64]
    /// Min and max since the last delta collection: they cannot be derived from two totals.
    var intervalMin: Double = .infinity
    var intervalMax: Double = -.infinity

    init(bucketCount: Int) { bucketCounts = Array(repeating: 0, count: bucketCount) }

    @inline(__always)
    mutating func record(_ value: Double, bucket: Int) {
        count += 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
        if value < intervalMin { intervalMin = value }
        if value > intervalMax { intervalMax = value }
        if value < 0 { hasNegative = true }
        bucketCounts[bucket] += 1
    }
}

extension HistogramState: DeltaAggregate {
    func delta(since base: HistogramState) -> HistogramState? {
        guard count != base.count else { return nil }
        var change = self
        change.count = count - base.count
        change.sum = sum - base.sum
        change.min = intervalMin
        change.max = intervalMax
        for i in change.bucketCounts.indices { change.bucketCounts[i] -= base.bucketCounts[i] }  // same bounds: one instrument
        return change
    }

    mutating func startDeltaInterval() {
        intervalMin = .infinity
        intervalMax = -.infinity
    }
}
