import Tracing

/// How one signal's items become request bodies.
struct SignalCodec<Item: Sendable>: Sendable {
    let signal: OTLPSignal
    /// Unit of the counters: spans, or metric data points.
    let itemCount: @Sendable ([Item]) -> Int
    /// The uncompressed request if it is at most `maxBytes`, else nil.
    let encode: @Sendable ([Item], _ maxBytes: Int) -> [UInt8]?

    /// Request bodies under the size cap, halving batches that are over it; single items that
    /// alone are over it are left out and counted.
    func bodies(_ items: [Item], maxBytes: Int) -> (bodies: [(bytes: [UInt8], count: Int)], tooLarge: Int) {
        guard !items.isEmpty else { return ([], 0) }
        if let body = encode(items, maxBytes) { return ([(body, itemCount(items))], 0) }
        if items.count == 1 { return ([], itemCount(items)) }
        let mid = items.count / 2
        let left = bodies(Array(items[..<mid]), maxBytes: maxBytes)
        let right = bodies(Array(items[mid...]), maxBytes: maxBytes)
        return (left.bodies + right.bodies, left.tooLarge + right.tooLarge)
    }
}

extension SignalCodec where Item == SpanData {
    static func spans(_ proto: OTLPProtocol, resource: Resource) -> SignalCodec {
        SignalCodec(signal: .traces, itemCount: { $0.count }) { spans, maxBytes in
            switch proto {
            case .httpProtobuf:
                return TraceRequestProtobuf(spans: spans, resource: resource).serializedBytes(ifAtMost: maxBytes)
            case .httpJSON:
                let body = TraceRequestJSON.encode(spans: spans, resource: resource)
                return body.count <= maxBytes ? body : nil
            }
        }
    }
}

extension SignalCodec where Item == MetricData {
    static func metrics(_ proto: OTLPProtocol, resource: Resource) -> SignalCodec {
        SignalCodec(signal: .metrics, itemCount: { $0.reduce(0) { $0 + $1.points.count } }) { metrics, maxBytes in
            switch proto {
            case .httpProtobuf:
                return MetricsRequestProtobuf(metrics: metrics, resource: resource).serializedBytes(ifAtMost: maxBytes)
            case .httpJSON:
                let body = MetricsRequestJSON.encode(metrics: metrics, resource: resource)
                return body.count <= maxBytes ? body : nil
            }
        }
    }
}

extension MetricPoints {
    var count: Int {
        switch self {
        case .gauge(let p): return p.count
        case .sum(let p, _, _): return p.count
        case .histogram(let p, _): return p.count
        }
    }
}
