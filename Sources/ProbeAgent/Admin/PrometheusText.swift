import Foundation
import Tracing

/// Cumulative metric snapshots in the Prometheus text exposition format 0.0.4, sorted by family
/// name and then by label set, so equal snapshots render byte for byte the same.
enum PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ metrics: [MetricData]) -> String {
        var families: [String: Family] = [:]
        // A metric without a name has no family to expose it under.
        for metric in metrics where !metric.name.isEmpty && !PrometheusNames.otlpOnly.contains(metric.name) {
            // Delta points are not exposable: a scrape needs running totals.
            guard let type = FamilyType(metric.points) else { continue }
            let name = PrometheusNames.metricName(metric.name, unit: metric.unit, isCounter: type == .counter)
            let help = metric.description.isEmpty ? metric.name : metric.description
            var family = families[name] ?? Family(name: name, type: type, help: help)
            guard family.type == type else { continue }  // same name, other kind: the first one wins
            family.add(metric.points)
            families[name] = family
        }
        var out = ""
        for name in families.keys.sorted() {
            families[name]!.write(to: &out)
        }
        return out
    }

    enum FamilyType: String {
        case gauge, counter, histogram

        init?(_ points: MetricPoints) {
            switch points {
            case .gauge: self = .gauge
            case .sum(_, .cumulative, let isMonotonic): self = isMonotonic ? .counter : .gauge
            case .histogram(_, .cumulative): self = .histogram
            case .sum(_, .delta, _), .histogram(_, .delta): return nil
            }
        }
    }

    /// One `# TYPE` block: its series keyed by their rendered labels (the first of duplicates wins).
    struct Family {
        let name: String
        let type: FamilyType
        let help: String
        var series: [String: String] = [:]

        mutating func add(_ points: MetricPoints) {
            switch points {
            case .gauge(let points), .sum(let points, _, _):
                for point in points {
                    let labels = Labels.render(point.attributes)
                    if series[labels] == nil {
                        series[labels] = sample(name, labels, Number.format(point.value))
                    }
                }
            case .histogram(let points, _):
                for point in points {
                    let labels = Labels.render(point.attributes)
                    if series[labels] == nil { series[labels] = histogram(point, labels) }
                }
            }
        }

        private func histogram(_ point: HistogramDataPoint, _ labels: String) -> String {
            let separator = labels.isEmpty ? "" : ","
            var lines = ""
            var cumulative: UInt64 = 0
            var lastBound = -Double.infinity
            for (bound, count) in zip(point.explicitBounds, point.bucketCounts) {
                let (sum, overflow) = cumulative.addingReportingOverflow(count)
                cumulative = overflow ? .max : sum
                // `le` values must be unique and finite (+Inf comes last); a bound out of order adds
                // its count to the next bucket written instead.
                guard bound.isFinite, bound > lastBound else { continue }
                lastBound = bound
                lines += sample(name + "_bucket", labels + separator + "le=\"\(Number.format(bound))\"", String(cumulative))
            }
            lines += sample(name + "_bucket", labels + separator + "le=\"+Inf\"", String(point.count))
            if let sum = point.sum { lines += sample(name + "_sum", labels, Number.format(sum)) }
            lines += sample(name + "_count", labels, String(point.count))
            return lines
        }

        private func sample(_ name: String, _ labels: String, _ value: String) -> String {
            labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(labels)} \(value)\n"
        }

        func write(to out: inout String) {
            guard !series.isEmpty else { return }
            out += "# HELP \(name) \(escaped(help, quotes: false))\n# TYPE \(name) \(type.rawValue)\n"
            for labels in series.keys.sorted() { out += series[labels]! }
        }
    }

    /// `\` → `\\`, LF → `\n` and, in label values, `"` → `\"`. Scalar by scalar: CR LF is one
    /// Character, which never equals "\n", so a Character-wise escape would leave its LF raw.
    static func escaped(_ text: String, quotes: Bool) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\\" || $0 == "\n" || (quotes && $0 == "\"") }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: #"\\"#.unicodeScalars)
            case "\n": out.append(contentsOf: #"\n"#.unicodeScalars)
            case "\"" where quotes: out.append(contentsOf: #"\""#.unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    enum Labels {
        /// `name="value",…` sorted by name. Attributes whose names collide after mapping share
        /// one label, their values joined with `;` in key order (the OpenTelemetry rule).
        static func render(_ attributes: [Attribute]) -> String {
            guard !attributes.isEmpty else { return "" }
            let labels = attributes.map { (name: PrometheusNames.labelName($0.key), key: $0.key, value: text($0.value)) }
                .sorted { ($0.name, $0.key) < ($1.name, $1.key) }
            var out = ""
            var i = 0
            while i < labels.count {
                var value = labels[i].value
                var j = i + 1
                while j < labels.count, labels[j].name == labels[i].name {
                    value += ";" + labels[j].value
                    j += 1
                }
                if i > 0 { out += "," }
                out += labels[i].name + "=\"" + escaped(value, quotes: true) + "\""
                i = j
            }
            return out
        }

        static func text(_ value: AttributeValue) -> String {
            switch value {
            case .string(let s): return s
            case .bool(let b): return b ? "true" : "false"
            case .int(let i): return String(i)
            case .double(let d): return Number.format(d)
            case .bytes(let bytes): return Data(bytes).base64EncodedString()
            case .array(let values): return "[" + values.map { quotedText($0) }.joined(separator: ",") + "]"
            case .map(let entries): return "{" + entries.map { "\"\($0.key)\":" + quotedText($0.value) }.joined(separator: ",") + "}"
            }
        }

        private static func quotedText(_ value: AttributeValue) -> String {
            switch value {
            case .string, .bytes: return "\"" + text(value) + "\""
            default: return text(value)
            }
        }
    }

    enum Number {
        static func format(_ value: NumberValue) -> String {
            switch value {
            case .int(let i): return String(i)
            case .double(let d): return format(d)
            }
        }

        /// Go's shortest form, as client_golang writes it: `1` not `1.0`, `+Inf`, `NaN`.
        static func format(_ value: Double) -> String {
            if value.isNaN { return "NaN" }
            if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return "\(value)"
        }
    }
}
