import Tracing

/// `ExportMetricsServiceRequest` as OTLP/JSON.
package enum MetricsRequestJSON {
    package static func encode(metrics: [MetricData], resource: Resource) -> [UInt8] {
        var w = JSONWriter(capacity: 256 * metrics.count)
        w.beginObject()
        let groups = groupedByScope(metrics) { $0.scope }
        if !groups.isEmpty {
            w.array("resourceMetrics") { list in
                list.beginObject()
                CommonJSON.resource(resource, into: &list)
                list.array("scopeMetrics") { scopes in
                    for group in groups {
                        scopes.beginObject()
                        CommonJSON.scope(group.scope, into: &scopes)
                        scopes.array("metrics") { out in for i in group.indices { metric(metrics[i], into: &out) } }
                        scopes.endObject()
                    }
                }
                list.endObject()
            }
        }
        w.endObject()
        return w.bytes
    }

    static func metric(_ metric: MetricData, into w: inout JSONWriter) {
        w.beginObject()
        w.key("name"); w.string(metric.name)
        if !metric.description.isEmpty { w.key("description"); w.string(metric.description) }
        if !metric.unit.isEmpty { w.key("unit"); w.string(metric.unit) }
        switch metric.points {
        case .gauge(let points):
            w.object("gauge") { g in
                g.array("dataPoints") { list in for p in points { numberPoint(p, into: &list) } }
            }
        case .sum(let points, let temporality, let isMonotonic):
            w.object("sum") { s in
                s.array("dataPoints") { list in for p in points { numberPoint(p, into: &list) } }
                s.key("aggregationTemporality"); s.int(temporality.rawValue)
                if isMonotonic { s.key("isMonotonic"); s.bool(true) }
            }
        case .histogram(let points, let temporality):
            w.object("histogram") { h in
                h.array("dataPoints") { list in for p in points { histogramPoint(p, into: &list) } }
                h.key("aggregationTemporality"); h.int(temporality.rawValue)
            }
        }
        w.endObject()
    }

    static func numberPoint(_ p: NumberDataPoint, into w: inout JSONWriter) {
        w.beginObject()
        CommonJSON.keyValues("attributes", p.attributes, into: &w)
        if p.startTimeUnixNano != 0 { w.key("startTimeUnixNano"); w.uint64String(p.startTimeUnixNano) }
        w.key("timeUnixNano"); w.uint64String(p.timeUnixNano)
        switch p.value {
        case .double(let v): w.key("asDouble"); w.double(v)
        case .int(let v): w.key("asInt"); w.int64String(v)
        }
        w.endObject()
    }

    static func histogramPoint(_ p: HistogramDataPoint, into w: inout JSONWriter) {
        w.beginObject()
        CommonJSON.keyValues("attributes", p.attributes, into: &w)
        if p.startTimeUnixNano != 0 { w.key("startTimeUnixNano"); w.uint64String(p.startTimeUnixNano) }
        w.key("timeUnixNano"); w.uint64String(p.timeUnixNano)
        w.key("count"); w.uint64String(p.count)
        if let sum = p.sum { w.key("sum"); w.double(sum) }
        if !p.bucketCounts.isEmpty {
            w.array("bucketCounts") { list in for c in p.bucketCounts { list.uint64String(c) } }
        }
        if !p.explicitBounds.isEmpty {
            w.array("explicitBounds") { list in for b in p.explicitBounds { list.double(b) } }
        }
        if let min = p.min { w.key("min"); w.double(min) }
        if let max = p.max { w.key("max"); w.double(max) }
        w.endObject()
    }
}
