import Tracing

/// How one signal's items become request bodies.
struct SignalCodec<Item: Sendable>: Sendable {
    let signal: OTLPSignal
    /// Unit of the counters: spans, or metric data points.
    let itemCount: @Sendable ([Item]) -> Int
    /// The body to send (compressed when configured) if the uncompressed request is at most
    /// `maxBytes`, else nil.
    let encode: @Sendable ([Item], _ maxBytes: Int, RequestBodyBuilder) throws -> [UInt8]?

    /// Request bodies under the size cap, halving batches that are over it; single items that
    /// alone are over it are left out and counted.
    func bodies(_ items: [Item], maxBytes: Int, builder: RequestBodyBuilder) throws
        -> (bodies: [(bytes: [UInt8], count: Int)], tooLarge: Int) {
        guard !items.isEmpty else { return ([], 0) }
        if let body = try encode(items, maxBytes, builder) { return ([(body, itemCount(items))], 0) }
        if items.count == 1 { return ([], itemCount(items)) }
        let mid = items.count / 2
        let left = try bodies(Array(items[..<mid]), maxBytes: maxBytes, builder: builder)
        let right = try bodies(Array(items[mid...]), maxBytes: maxBytes, builder: builder)
        return (left.bodies + right.bodies, left.tooLarge + right.tooLarge)
    }
}

/// Turns an encoded request into the bytes that go on the wire, gzip or a plain copy, in memory
/// kept between requests (up to `keptBytes`: a span batch's worth). Used only by the export
/// holding its pipeline's gate.
final class RequestBodyBuilder {
    static let keptBytes = 1 << 20
    let scratch = ProtobufScratch()
    private let compressor: GzipCompressor?

    init(compression: OTLPCompression) {
        compressor = compression == .gzip ? GzipCompressor() : nil
    }

    func body(_ encoded: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let compressor else { return Array(encoded) }
        defer { compressor.release(ifOver: Self.keptBytes) }
        return try compressor.compress(encoded)
    }

    func protobufBody<M: ProtobufEncodable>(_ message: M, ifAtMost maxBytes: Int) throws -> [UInt8]? {
        defer { scratch.release(ifOver: Self.keptBytes) }
        return try scratch.withEncoded(message) { $0.count <= maxBytes ? try body($0) : nil }
    }

    func jsonBody(_ encoded: [UInt8], ifAtMost maxBytes: Int) throws -> [UInt8]? {
        encoded.count <= maxBytes ? try encoded.withUnsafeBytes { try body($0) } : nil
    }
}

extension SignalCodec where Item == SpanData {
    static func spans(_ proto: OTLPProtocol, resource: Resource) -> SignalCodec {
        SignalCodec(signal: .traces, itemCount: { $0.count }) { spans, maxBytes, builder in
            switch proto {
            case .httpProtobuf:
                return try builder.protobufBody(TraceRequestProtobuf(spans: spans, resource: resource), ifAtMost: maxBytes)
            case .httpJSON:
                return try builder.jsonBody(TraceRequestJSON.encode(spans: spans, resource: resource), ifAtMost: maxBytes)
            }
        }
    }
}

extension SignalCodec where Item == MetricData {
    static func metrics(_ proto: OTLPProtocol, resource: Resource) -> SignalCodec {
        SignalCodec(signal: .metrics, itemCount: { $0.reduce(0) { $0 + $1.points.count } }) { metrics, maxBytes, builder in
            switch proto {
            case .httpProtobuf:
                return try builder.protobufBody(MetricsRequestProtobuf(metrics: metrics, resource: resource), ifAtMost: maxBytes)
            case .httpJSON:
                return try builder.jsonBody(MetricsRequestJSON.encode(metrics: metrics, resource: resource), ifAtMost: maxBytes)
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
