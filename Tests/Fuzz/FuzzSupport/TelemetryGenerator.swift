import Tracing

/// Spans and metrics of every shape the encoders handle, from fuzzer bytes.
public struct TelemetryGenerator {
    public var input: FuzzInput
    /// Names to use now and then instead of random text (the renderer maps some specially).
    private let vocabulary: [String]
    private let scopes = [InstrumentationScope(name: "probe-agent", version: "1"), InstrumentationScope(name: ""),
                          InstrumentationScope(name: "other", version: "")]

    public init(input: FuzzInput, vocabulary: [String] = []) {
        self.input = input
        self.vocabulary = vocabulary
    }

    public mutating func text() -> String {
        if !vocabulary.isEmpty, input.byte() % 4 == 0 { return input.pick(vocabulary) }
        return input.string(upTo: input.bool() ? 3 : 200)
    }

    public mutating func time() -> UInt64 { input.bool() ? 0 : input.uint64() }
    public mutating func count() -> Int { input.bool() ? 0 : Int(input.int64()) }

    public mutating func value(depth: Int) -> AttributeValue {
        switch input.byte() % (depth > 0 ? 7 : 5) {
        case 0: return .string(text())
        case 1: return .bool(input.bool())
        case 2: return .int(input.int64())
        case 3: return .double(input.double())
        case 4: return .bytes(input.bytes(upTo: 20))
        case 5: return .array((0..<input.int(0...3)).map { _ in value(depth: depth - 1) })
        default: return .map(attributes(depth: depth - 1))
        }
    }

    public mutating func attributes(depth: Int) -> [Attribute] {
        (0..<input.int(0...3)).map { _ in Attribute(text(), value(depth: depth)) }
    }

    public mutating func context() -> SpanContext {
        SpanContext(traceID: TraceID(high: input.uint64(), low: input.uint64()), spanID: SpanID(input.uint64()),
                    traceFlags: TraceFlags(rawValue: input.byte()), traceState: text(), isRemote: input.bool())
    }

    public mutating func span() -> SpanData {
        var status = SpanStatus(input.pick([.unset, .ok, .error]), message: text())
        if input.bool() { status.message = text() }  // a message the code does not allow, set directly
        return SpanData(
            context: context(), parentSpanID: input.bool() ? SpanID(input.bool() ? 0 : input.uint64()) : nil,
            name: text(), kind: SpanKind(rawValue: input.int(0...5))!, startTimeUnixNano: time(), endTimeUnixNano: time(),
            attributes: attributes(depth: 2), droppedAttributesCount: count(),
            events: (0..<input.int(0...2)).map { _ in
                SpanEvent(name: text(), timeUnixNano: time(), attributes: attributes(depth: 1), droppedAttributesCount: count())
            },
            droppedEventsCount: count(),
            links: (0..<input.int(0...2)).map { _ in
                SpanLink(context(), attributes: attributes(depth: 1), droppedAttributesCount: count())
            },
            droppedLinksCount: count(), status: status, scope: input.pick(scopes),
            parentIsRemote: input.pick([nil, true, false]))
    }

    public mutating func numberPoint() -> NumberDataPoint {
        NumberDataPoint(attributes: attributes(depth: 1), startTimeUnixNano: time(), timeUnixNano: time(),
                        value: input.bool() ? .int(input.int64()) : .double(input.double()))
    }

    public mutating func histogramPoint() -> HistogramDataPoint {
        let bounds = (0..<input.int(0...4)).map { _ in input.double() }
        return HistogramDataPoint(attributes: attributes(depth: 1), startTimeUnixNano: time(), timeUnixNano: time(),
                                  count: input.bool() ? 0 : input.uint64(), sum: input.bool() ? input.double() : nil,
                                  min: input.bool() ? input.double() : nil, max: input.bool() ? input.double() : nil,
                                  bucketCounts: (0..<input.int(0...5)).map { _ in input.uint64() }, explicitBounds: bounds)
    }

    public mutating func metric() -> MetricData {
        let temporality: AggregationTemporality = input.bool() ? .delta : .cumulative
        let points: MetricPoints
        switch input.byte() % 3 {
        case 0: points = .gauge((0..<input.int(0...3)).map { _ in numberPoint() })
        case 1: points = .sum((0..<input.int(0...3)).map { _ in numberPoint() }, temporality: temporality, isMonotonic: input.bool())
        default: points = .histogram((0..<input.int(0...3)).map { _ in histogramPoint() }, temporality: temporality)
        }
        return MetricData(name: text(), description: text(), unit: text(), scope: input.pick(scopes), points: points)
    }
}
