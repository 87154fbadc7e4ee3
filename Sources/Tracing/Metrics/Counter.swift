/// A monotonic sum of integers, e.g. `probe.state.transitions`. Negative increments are ignored.
public final class Counter: Sendable {
    public let name: String
    public let unit: String
    public let description: String
    let store: SeriesStore<Int64>

    init(name: String, unit: String, description: String, cardinalityLimit: Int, clock: @escaping @Sendable () -> UInt64) {
        self.name = name
        self.unit = unit
        self.description = description
        self.store = SeriesStore(initial: 0, cardinalityLimit: cardinalityLimit, clock: clock)
    }

    public func add(_ value: Int64 = 1, attributes: [Attribute] = []) {
        guard value >= 0 else { return }
        store.update(attributes) { $0 &+= value }
    }

    public func add(_ value: Int, attributes: [Attribute] = []) { add(Int64(value), attributes: attributes) }

    /// Forgets one attribute set (a target that no longer exists).
    public func remove(attributes: [Attribute]) { store.remove(attributes) }

    /// One attribute set, bound once: adding through it skips hashing the attributes.
    public struct Series: Sendable {
        let binding: SeriesStore<Int64>.Binding
        let store: SeriesStore<Int64>

        public func add(_ value: Int64 = 1) {
            guard value >= 0 else { return }
            store.update(binding) { $0 &+= value }
        }
    }

    public func series(_ attributes: [Attribute]) -> Series { Series(binding: store.bind(attributes), store: store) }
}

/// A monotonic sum of doubles. Negative, NaN and infinite increments are ignored.
package final class DoubleCounter: Sendable {
    package let name: String
    package let unit: String
    package let description: String
    let store: SeriesStore<Double>

    init(name: String, unit: String, description: String, cardinalityLimit: Int, clock: @escaping @Sendable () -> UInt64) {
        self.name = name
        self.unit = unit
        self.description = description
        self.store = SeriesStore(initial: 0, cardinalityLimit: cardinalityLimit, clock: clock)
    }

    package func add(_ value: Double, attributes: [Attribute] = []) {
        guard value >= 0, value.isFinite else { return }
        store.update(attributes) { $0 += value }
    }

    package func remove(attributes: [Attribute]) { store.remove(attributes) }
}
