import Tracing

/// `ExportMetricsServiceRequest` (opentelemetry.proto.collector.metrics.v1) straight from `MetricData`.
package struct MetricsRequestProtobuf: ProtobufEncodable {
    package let resource: Resource
    let metrics: [MetricData]
    let groups: [ScopeGroup]

    package init(metrics: [MetricData], resource: Resource) {
        self.resource = resource
        self.metrics = metrics
        groups = groupedByScope(metrics) { $0.scope }
    }

    package func encode(into s: inout ProtobufWriter) {
        guard !groups.isEmpty else { return }
        s.messageField(1) { rm in
            rm.messageField(1) { CommonProtobuf.resource(resource, into: &$0) }
            for group in groups {
                rm.messageField(2) { sm in
                    sm.messageField(1) { CommonProtobuf.scope(group.scope, into: &$0) }
                    metrics.withUnsafeBufferPointer { metrics in
                        for i in group.indices {
                            sm.messageField(2) { MetricsProtobuf.metric(metrics[i], into: &$0) }
                        }
                    }
                }
            }
        }
    }
}

enum MetricsProtobuf {
    static func metric(_ metric: MetricData, into s: inout ProtobufWriter) {
        s.stringField(1, metric.name)
        if !metric.description.isEmpty { s.stringField(2, metric.description) }
        if !metric.unit.isEmpty { s.stringField(3, metric.unit) }
        switch metric.points {
        case .gauge(let points):
            s.messageField(5) { g in
                for p in points { g.messageField(1) { numberPoint(p, into: &$0) } }
            }
        case .sum(let points, let temporality, let isMonotonic):
            s.messageField(7) { sum in
                for p in points { sum.messageField(1) { numberPoint(p, into: &$0) } }
                sum.varintField(2, UInt64(temporality.rawValue))  // never 0 (UNSPECIFIED)
                if isMonotonic { sum.boolField(3, true) }
            }
        case .histogram(let points, let temporality):
            s.messageField(9) { h in
                for p in points { h.messageField(1) { histogramPoint(p, into: &$0) } }
                h.varintField(2, UInt64(temporality.rawValue))
            }
        }
    }

    static func numberPoint(_ p: NumberDataPoint, into s: inout ProtobufWriter) {
        if p.startTimeUnixNano != 0 { s.fixed64Field(2, p.startTimeUnixNano) }
        s.fixed64Field(3, p.timeUnixNano)
        switch p.value {  // oneof: written even when zero
        case .double(let v): s.doubleField(4, v)
        case .int(let v): s.sfixed64Field(6, v)
        }
        CommonProtobuf.keyValues(p.attributes, field: 7, into: &s)
    }

    static func histogramPoint(_ p: HistogramDataPoint, into s: inout ProtobufWriter) {
        if p.startTimeUnixNano != 0 { s.fixed64Field(2, p.startTimeUnixNano) }
        s.fixed64Field(3, p.timeUnixNano)
        if p.count != 0 { s.fixed64Field(4, p.count) }
        if let sum = p.sum { s.doubleField(5, sum) }  // optional: present even when 0.0
        s.packedFixed64Field(6, p.bucketCounts)
        s.packedDoubleField(7, p.explicitBounds)
        CommonProtobuf.keyValues(p.attributes, field: 9, into: &s)
        if let min = p.min { s.doubleField(11, min) }
        if let max = p.max { s.doubleField(12, max) }
    }
}
