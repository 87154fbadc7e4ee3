/// The last value set per attribute set, e.g. `probe.success` (0/1) or `probe.tls.cert.not_after`.
public final class Gauge: Sendable {
    public let name: String
    public let unit: String
    public let description: String
    let store: SeriesStore<NumberValue>

    init(name: String, unit: String, description: String, cardinalityLimit: Int, clock: @escaping @Sendable () -> UInt64) {
        self.name = name
        self.unit = unit
        self.description = description
        self.store = SeriesStore(initial: .int(0), cardinalityLimit: cardinalityLimit, clock: clock)
    }

    public func set(_ value: Int64, attributes: [Attribute] = []) {
        store.update(attributes) { $0 = .int(value) }
    }

    public func set(_ value: Int, attributes: [Attribute] = []) { set(Int64(value), attributes: attributes) }

    public func set(_ value: Double, attributes: [Attribute] = []) {
        store.update(attributes) { $0 = .double(value) }
    }

    public func remove(attributes: [Attribute]) { store.remove(attributes) }

    /// One attribute set, bound once: setting through it skips hashing the attributes.
    public struct Series: Sendable {
        let binding: SeriesStore<NumberValue>.Binding
        let store: SeriesStore<NumberValue>

        public func set(_ value: Int64) { store.update(binding) { $0 = .int(value) } }
        public func set(_ value: Int) { set(Int64(value)) }
        public func set(_ value: Double) { store.update(binding) { $0 = .double(value) } }
    }

    public func series(_ attributes: [Attribute]) -> Series { Series(binding: store.bind(attributes), store: store) }
}
