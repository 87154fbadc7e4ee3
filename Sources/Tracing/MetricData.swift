public enum AggregationTemporality: Int, Sendable {
    case delta = 1
    case cumulative = 2
}

public enum NumberValue: Sendable, Equatable {
    case int(Int64)
    case double(Double)
}

public struct NumberDataPoint: Sendable, Equatable {
    public var attributes: [Attribute]
    public var startTimeUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var value: NumberValue

    public init(attributes: [Attribute], startTimeUnixNano: UInt64, timeUnixNano: UInt64, value: NumberValue) {
        self.attributes = attributes
        self.startTimeUnixNano = startTimeUnixNano
        self.timeUnixNano = timeUnixNano
        self.value = value
    }
}

/// Explicit-bucket histogram point. `bucketCounts.count == explicitBounds.count + 1`;
/// bucket i counts values in (bounds[i-1], bounds[i]].
public struct HistogramDataPoint: Sendable, Equatable {
    public var attributes: [Attribute]
    public var startTimeUnixNano: UInt64
    public var timeUnixNano: UInt64
    public var count: UInt64
    public var sum: Double?
    public var min: Double?
    public var max: Double?
    public var bucketCounts: [UInt64]
    public var explicitBounds: [Double]

    public init(attributes: [Attribute], startTimeUnixNano: UInt64, timeUnixNano: UInt64, count: UInt64,
                sum: Double?, min: Double?, max: Double?, bucketCounts: [UInt64], explicitBounds: [Double]) {
        self.attributes = attributes
        self.startTimeUnixNano = startTimeUnixNano
        self.timeUnixNano = timeUnixNano
        self.count = count
        self.sum = sum
        self.min = min
        self.max = max
        self.bucketCounts = bucketCounts
        self.explicitBounds = explicitBounds
    }
}

public enum MetricPoints: Sendable, Equatable {
    case gauge([NumberDataPoint])
    case sum([NumberDataPoint], temporality: AggregationTemporality, isMonotonic: Bool)
    case histogram([HistogramDataPoint], temporality: AggregationTemporality)
}

/// One metric stream in a snapshot, ready to encode.
public struct MetricData: Sendable, Equatable {
    public var name: String
    public var description: String
    public var unit: String
    public var scope: InstrumentationScope
    public var points: MetricPoints

    public init(name: String, description: String = "", unit: String = "",
                scope: InstrumentationScope, points: MetricPoints) {
        self.name = name
        self.description = description
        self.unit = unit
        self.scope = scope
        self.points = points
    }
}
