import FuzzSupport
import OTLPExporter
import Tracing

/// An OTLP request as it stands on the wire, field by field: what we expect to have written and
/// what ProtobufReader reads back are both put in this form and compared. Doubles are bit patterns,
/// so NaN compares equal to itself; an absent field is its proto3 default.
indirect enum WireValue: Equatable {
    case string(String), bool(Bool), int(Int64), double(UInt64), bytes([UInt8]), array([WireValue]), map([WireKV])
}

struct WireKV: Equatable {
    var key = ""
    var value: WireValue?
}

struct WireScope: Equatable {
    var name = "", version = ""
}

struct WireEvent: Equatable {
    var time: UInt64 = 0, name = "", attributes: [WireKV] = [], dropped: UInt64 = 0
}

struct WireLink: Equatable {
    var traceID: [UInt8] = [], spanID: [UInt8] = [], traceState = "", attributes: [WireKV] = [], dropped: UInt64 = 0
    var flags: UInt32 = 0
}

struct WireStatus: Equatable {
    var message = "", code: UInt64 = 0
}

struct WireSpan: Equatable {
    var traceID: [UInt8] = [], spanID: [UInt8] = [], traceState = "", parentSpanID: [UInt8] = [], name = ""
    var kind: UInt64 = 0, start: UInt64 = 0, end: UInt64 = 0, attributes: [WireKV] = [], droppedAttributes: UInt64 = 0
    var events: [WireEvent] = [], droppedEvents: UInt64 = 0, links: [WireLink] = [], droppedLinks: UInt64 = 0
    var status: WireStatus?, flags: UInt32 = 0
}

struct WirePoint: Equatable {
    var start: UInt64 = 0, time: UInt64 = 0, double: UInt64?, int: Int64?, attributes: [WireKV] = []
    // histogram points
    var count: UInt64 = 0, sum: UInt64?, buckets: [UInt64] = [], bounds: [UInt64] = [], min: UInt64?, max: UInt64?
}

struct WireMetric: Equatable {
    var name = "", description = "", unit = ""
    /// 5 gauge, 7 sum, 9 histogram.
    var dataField = 0, points: [WirePoint] = [], temporality: UInt64 = 0, monotonic = false
}

/// Scope with its items, resource per request (one resource, as the encoders write it).
struct WireRequest<Item: Equatable>: Equatable {
    var resource: [WireKV] = []
    var scopes: [(scope: WireScope, items: [Item])] = []

    static func == (a: Self, b: Self) -> Bool {
        a.resource == b.resource && a.scopes.count == b.scopes.count
            && zip(a.scopes, b.scopes).allSatisfy { $0.scope == $1.scope && $0.items == $1.items }
    }
}

// MARK: what the encoders should have written

enum Expected {
    static func value(_ v: AttributeValue) -> WireValue {
        switch v {
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d.bitPattern)
        case .bytes(let b): return .bytes(b)
        case .array(let a): return .array(a.map(value))
        case .map(let m): return .map(attributes(m))
        }
    }

    static func attributes(_ list: [Attribute]) -> [WireKV] { list.map { WireKV(key: $0.key, value: value($0.value)) } }
    static func count(_ n: Int) -> UInt64 { n > 0 ? UInt64(UInt32(clamping: n)) : 0 }
    static func traceID(_ c: SpanContext) -> [UInt8] { bigEndian(c.traceID.high) + bigEndian(c.traceID.low) }
    static func bigEndian(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) } }

    static func grouped<T, Item>(_ items: [T], scope: (T) -> InstrumentationScope, _ wire: (T) -> Item) -> [(scope: WireScope, items: [Item])] {
        var order: [InstrumentationScope] = []
        var byScope: [InstrumentationScope: [Item]] = [:]
        for item in items {
            let s = scope(item)
            if byScope[s] == nil { order.append(s) }
            byScope[s, default: []].append(wire(item))
        }
        return order.map { (WireScope(name: $0.name, version: $0.version), byScope[$0]!) }
    }

    static func traces(_ spans: [SpanData], _ resource: Resource) -> WireRequest<WireSpan> {
        WireRequest(resource: attributes(resource.attributes), scopes: grouped(spans, scope: \.scope, span))
    }

    static func span(_ s: SpanData) -> WireSpan {
        var w = WireSpan()
        w.traceID = traceID(s.context)
        w.spanID = bigEndian(s.context.spanID.value)
        w.traceState = s.context.traceState
        if let parent = s.parentSpanID, parent.value != 0 { w.parentSpanID = bigEndian(parent.value) }
        w.name = s.name
        w.kind = UInt64(s.kind.rawValue)
        (w.start, w.end) = (s.startTimeUnixNano, s.endTimeUnixNano)
        w.attributes = attributes(s.attributes)
        w.droppedAttributes = count(s.droppedAttributesCount)
        w.events = s.events.map {
            WireEvent(time: $0.timeUnixNano, name: $0.name, attributes: attributes($0.attributes), dropped: count($0.droppedAttributesCount))
        }
        w.droppedEvents = count(s.droppedEventsCount)
        w.links = s.links.map {
            WireLink(traceID: traceID($0.context), spanID: bigEndian($0.context.spanID.value), traceState: $0.context.traceState,
                     attributes: attributes($0.attributes), dropped: count($0.droppedAttributesCount),
                     flags: UInt32($0.context.traceFlags.rawValue) | 0x100 | ($0.context.isRemote ? 0x200 : 0))
        }
        w.droppedLinks = count(s.droppedLinksCount)
        if s.status.code != .unset {
            w.status = WireStatus(message: s.status.code == .error ? s.status.message : "", code: UInt64(s.status.code.rawValue))
        }
        // SpanFlags: W3C flags, then "parent remoteness known" (always for a root) and "remote".
        w.flags = UInt32(s.context.traceFlags.rawValue)
        if s.parentSpanID == nil || s.parentIsRemote != nil { w.flags |= 0x100 }
        if s.parentIsRemote == true { w.flags |= 0x200 }
        return w
    }

    static func metrics(_ metrics: [MetricData], _ resource: Resource) -> WireRequest<WireMetric> {
        WireRequest(resource: attributes(resource.attributes), scopes: grouped(metrics, scope: \.scope, metric))
    }

    static func metric(_ m: MetricData) -> WireMetric {
        var w = WireMetric(name: m.name, description: m.description, unit: m.unit)
        func number(_ p: NumberDataPoint) -> WirePoint {
            var wp = WirePoint(start: p.startTimeUnixNano, time: p.timeUnixNano, attributes: attributes(p.attributes))
            switch p.value {
            case .double(let d): wp.double = d.bitPattern
            case .int(let i): wp.int = i
            }
            return wp
        }
        switch m.points {
        case .gauge(let points):
            (w.dataField, w.points) = (5, points.map(number))
        case .sum(let points, let temporality, let monotonic):
            (w.dataField, w.points, w.temporality, w.monotonic) = (7, points.map(number), UInt64(temporality.rawValue), monotonic)
        case .histogram(let points, let temporality):
            (w.dataField, w.temporality) = (9, UInt64(temporality.rawValue))
            w.points = points.map { p in
                WirePoint(start: p.startTimeUnixNano, time: p.timeUnixNano, attributes: attributes(p.attributes), count: p.count,
                          sum: p.sum?.bitPattern, buckets: p.bucketCounts, bounds: p.explicitBounds.map(\.bitPattern),
                          min: p.min?.bitPattern, max: p.max?.bitPattern)
            }
        }
        return w
    }
}

// MARK: what ProtobufReader reads back

struct WrongWireType: Error {
    let field: Int
}

enum Decoded {
    private static func fields(_ bytes: ArraySlice<UInt8>, _ each: (Int, ProtobufReader.Value) throws -> Void) throws {
        var reader = ProtobufReader(Array(bytes))
        while let (field, value) = try reader.next() { try each(field, value) }
    }

    private static func len(_ v: ProtobufReader.Value, _ field: Int) throws -> ArraySlice<UInt8> {
        guard case .len(let b) = v else { throw WrongWireType(field: field) }
        return b
    }

    private static func string(_ v: ProtobufReader.Value, _ field: Int) throws -> String {
        String(decoding: try len(v, field), as: UTF8.self)
    }

    private static func varint(_ v: ProtobufReader.Value, _ field: Int) throws -> UInt64 {
        guard case .varint(let n) = v else { throw WrongWireType(field: field) }
        return n
    }

    private static func fixed64(_ v: ProtobufReader.Value, _ field: Int) throws -> UInt64 {
        guard case .i64(let n) = v else { throw WrongWireType(field: field) }
        return n
    }

    private static func fixed32(_ v: ProtobufReader.Value, _ field: Int) throws -> UInt32 {
        guard case .i32(let n) = v else { throw WrongWireType(field: field) }
        return n
    }

    private static func packed64(_ v: ProtobufReader.Value, _ field: Int) throws -> [UInt64] {
        let b = Array(try len(v, field))
        guard b.count % 8 == 0 else { throw WrongWireType(field: field) }
        return stride(from: 0, to: b.count, by: 8).map { i in (0..<8).reduce(0) { $0 | UInt64(b[i + $1]) << (8 * $1) } }
    }

    static func anyValue(_ bytes: ArraySlice<UInt8>) throws -> WireValue? {
        var result: WireValue?
        try fields(bytes) { f, v in
            switch f {
            case 1: result = .string(try string(v, f))
            case 2: result = .bool(try varint(v, f) != 0)
            case 3: result = .int(Int64(bitPattern: try varint(v, f)))
            case 4: result = .double(try fixed64(v, f))
            case 5:
                var values: [WireValue] = []
                try fields(try len(v, f)) { f, v in
                    guard f == 1 else { return }
                    values.append(try anyValue(try len(v, f)) ?? .string(""))
                }
                result = .array(values)
            case 6:
                var entries: [WireKV] = []
                try fields(try len(v, f)) { f, v in if f == 1 { entries.append(try keyValue(try len(v, f))) } }
                result = .map(entries)
            case 7: result = .bytes(Array(try len(v, f)))
            default: break
            }
        }
        return result
    }

    static func keyValue(_ bytes: ArraySlice<UInt8>) throws -> WireKV {
        var kv = WireKV()
        try fields(bytes) { f, v in
            switch f {
            case 1: kv.key = try string(v, f)
            case 2: kv.value = try anyValue(try len(v, f))
            default: break
            }
        }
        return kv
    }

    static func scope(_ bytes: ArraySlice<UInt8>) throws -> WireScope {
        var s = WireScope()
        try fields(bytes) { f, v in
            switch f {
            case 1: s.name = try string(v, f)
            case 2: s.version = try string(v, f)
            default: break
            }
        }
        return s
    }

    /// ExportXServiceRequest → one resource's scopes, items decoded by `item`.
    static func request<Item>(_ bytes: [UInt8], _ item: (ArraySlice<UInt8>) throws -> Item) throws -> WireRequest<Item> {
        var request = WireRequest<Item>()
        var resources = 0
        try fields(bytes[...]) { f, v in
            guard f == 1 else { return }
            resources += 1
            try fields(try len(v, f)) { f, v in
                switch f {
                case 1: try fields(try len(v, f)) { f, v in if f == 1 { request.resource.append(try keyValue(try len(v, f))) } }
                case 2:
                    var scope = WireScope(), items: [Item] = []
                    try fields(try len(v, f)) { f, v in
                        switch f {
                        case 1: scope = try Decoded.scope(try len(v, f))
                        case 2: items.append(try item(try len(v, f)))
                        default: break
                        }
                    }
                    request.scopes.append((scope, items))
                default: break
                }
            }
        }
        require(resources == 1, "\(resources) resource entries")
        return request
    }

    static func traces(_ bytes: [UInt8]) throws -> WireRequest<WireSpan> { try request(bytes, span) }
    static func metrics(_ bytes: [UInt8]) throws -> WireRequest<WireMetric> { try request(bytes, metric) }

    static func span(_ bytes: ArraySlice<UInt8>) throws -> WireSpan {
        var s = WireSpan()
        try fields(bytes) { f, v in
            switch f {
            case 1: s.traceID = Array(try len(v, f))
            case 2: s.spanID = Array(try len(v, f))
            case 3: s.traceState = try string(v, f)
            case 4: s.parentSpanID = Array(try len(v, f))
            case 5: s.name = try string(v, f)
            case 6: s.kind = try varint(v, f)
            case 7: s.start = try fixed64(v, f)
            case 8: s.end = try fixed64(v, f)
            case 9: s.attributes.append(try keyValue(try len(v, f)))
            case 10: s.droppedAttributes = try varint(v, f)
            case 11:
                var e = WireEvent()
                try fields(try len(v, f)) { f, v in
                    switch f {
                    case 1: e.time = try fixed64(v, f)
                    case 2: e.name = try string(v, f)
                    case 3: e.attributes.append(try keyValue(try len(v, f)))
                    case 4: e.dropped = try varint(v, f)
                    default: break
                    }
                }
                s.events.append(e)
            case 12: s.droppedEvents = try varint(v, f)
            case 13:
                var l = WireLink()
                try fields(try len(v, f)) { f, v in
                    switch f {
                    case 1: l.traceID = Array(try len(v, f))
                    case 2: l.spanID = Array(try len(v, f))
                    case 3: l.traceState = try string(v, f)
                    case 4: l.attributes.append(try keyValue(try len(v, f)))
                    case 5: l.dropped = try varint(v, f)
                    case 6: l.flags = try fixed32(v, f)
                    default: break
                    }
                }
                s.links.append(l)
            case 14: s.droppedLinks = try varint(v, f)
            case 15:
                var status = WireStatus()
                try fields(try len(v, f)) { f, v in
                    switch f {
                    case 2: status.message = try string(v, f)
                    case 3: status.code = try varint(v, f)
                    default: break
                    }
                }
                s.status = status
            case 16: s.flags = try fixed32(v, f)
            default: break
            }
        }
        return s
    }

    static func point(_ bytes: ArraySlice<UInt8>, histogram: Bool) throws -> WirePoint {
        var p = WirePoint()
        try fields(bytes) { f, v in
            switch (f, histogram) {
            case (2, _): p.start = try fixed64(v, f)
            case (3, _): p.time = try fixed64(v, f)
            case (4, false): p.double = try fixed64(v, f)
            case (6, false): p.int = Int64(bitPattern: try fixed64(v, f))
            case (7, false), (9, true): p.attributes.append(try keyValue(try len(v, f)))
            case (4, true): p.count = try fixed64(v, f)
            case (5, true): p.sum = try fixed64(v, f)
            case (6, true): p.buckets = try packed64(v, f)
            case (7, true): p.bounds = try packed64(v, f)
            case (11, true): p.min = try fixed64(v, f)
            case (12, true): p.max = try fixed64(v, f)
            default: break
            }
        }
        return p
    }

    static func metric(_ bytes: ArraySlice<UInt8>) throws -> WireMetric {
        var m = WireMetric()
        try fields(bytes) { f, v in
            switch f {
            case 1: m.name = try string(v, f)
            case 2: m.description = try string(v, f)
            case 3: m.unit = try string(v, f)
            case 5, 7, 9:
                m.dataField = f
                try fields(try len(v, f)) { g, v in
                    switch g {
                    case 1: m.points.append(try point(try len(v, g), histogram: f == 9))
                    case 2: m.temporality = try varint(v, g)
                    case 3: m.monotonic = try varint(v, g) != 0
                    default: break
                    }
                }
            default: break
            }
        }
        return m
    }
}
