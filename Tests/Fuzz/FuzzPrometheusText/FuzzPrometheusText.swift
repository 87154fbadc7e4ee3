import FuzzSupport
@testable import ProbeAgentFuzzable
import Tracing

/// The Prometheus text renderer on fuzzed metric snapshots: every line of the output parses as
/// exposition format 0.0.4 (HELP, TYPE, then samples of that family only), names and label names are
/// valid, no series appears twice, and rendering is deterministic.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrometheusText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var generator = TelemetryGenerator(input: FuzzInput(data, size), vocabulary: vocabulary)
    let metrics = (0..<generator.input.int(0...4)).map { _ in generator.metric() }
    let text = PrometheusText.render(metrics)
    require(text == PrometheusText.render(metrics), "render is not deterministic")
    do {
        try ExpositionCheck.check(text)
    } catch {
        require(false, "\(error)\n--- output:\n\(shown(text))")
    }
    return 0
}

private let vocabulary = Array(PrometheusNames.metrics.keys) + Array(PrometheusNames.labels.keys)
    + ["probe.duration", "a.b", "9lives", "__name__", "le", "s", "", "target", "probe_success"]

struct ExpositionError: Error, CustomStringConvertible {
    let description: String
}

/// A strict reader of the text format 0.0.4, as Prometheus' own parser takes it.
enum ExpositionCheck {
    static func check(_ text: String) throws {
        guard !text.isEmpty else { return }
        guard text.hasSuffix("\n") else { throw ExpositionError(description: "no final newline") }
        var family: (name: String, type: String)?
        var helped: String?
        var families: Set<String> = []
        var series: Set<String> = []
        // Split on LF bytes: split(separator:) on Characters would not split a CR LF.
        let lines = text.utf8.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, line) in lines.map({ String(decoding: $0, as: UTF8.self) }).enumerated() {
            func fail(_ why: String) -> ExpositionError { ExpositionError(description: "line \(index + 1): \(why): \(shown(String(line)))") }
            var scalars = Array(line.unicodeScalars)[...]
            if line.hasPrefix("# HELP ") {
                scalars = scalars.dropFirst(7)
                let name = metricName(&scalars)
                guard !name.isEmpty, scalars.popFirst() == " " else { throw fail("bad HELP") }
                guard escapesValid(scalars, quoted: false) else { throw fail("bad escape in HELP") }
                guard families.insert(name).inserted else { throw fail("second HELP for \(name)") }
                helped = name
                family = nil
            } else if line.hasPrefix("# TYPE ") {
                scalars = scalars.dropFirst(7)
                let name = metricName(&scalars)
                let type = String(String.UnicodeScalarView(scalars.dropFirst()))
                guard name == helped, scalars.first == " ", ["gauge", "counter", "histogram"].contains(type) else { throw fail("bad TYPE") }
                family = (name, type)
            } else {
                guard let family else { throw fail("sample before TYPE") }
                let name = metricName(&scalars)
                let allowed = family.type == "histogram" ? ["_bucket", "_sum", "_count"].map { family.name + $0 } : [family.name]
                guard allowed.contains(name) else { throw fail("sample \(name) in family \(family.name)") }
                var labels: [String] = []
                if scalars.first == "{" {
                    scalars = scalars.dropFirst()
                    while scalars.first != "}" {
                        let label = labelName(&scalars)
                        guard !label.isEmpty, !label.hasPrefix("__"), !labels.contains(label) else { throw fail("bad or repeated label name '\(label)'") }
                        labels.append(label)
                        guard scalars.popFirst() == "=", scalars.popFirst() == "\"" else { throw fail("label without =\"") }
                        guard let value = quotedValue(&scalars) else { throw fail("bad label value") }
                        labels[labels.count - 1] += "=" + value
                        if scalars.first == "," { scalars = scalars.dropFirst() } else if scalars.first != "}" { throw fail("no , or }") }
                    }
                    scalars = scalars.dropFirst()
                }
                guard scalars.popFirst() == " ", isNumber(String(String.UnicodeScalarView(scalars))) else { throw fail("bad value") }
                if name.hasSuffix("_bucket"), family.type == "histogram" {
                    guard labels.contains(where: { $0.hasPrefix("le=") }) else { throw fail("bucket without le") }
                }
                guard series.insert(name + "{" + labels.sorted().joined(separator: ",") + "}").inserted else { throw fail("repeated series") }
            }
        }
    }

    private static func isNameStart(_ c: Unicode.Scalar, colon: Bool) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || (colon && c == ":")
    }

    private static func name(_ s: inout ArraySlice<Unicode.Scalar>, colon: Bool) -> String {
        guard let first = s.first, isNameStart(first, colon: colon) else { return "" }
        let end = s.firstIndex { !isNameStart($0, colon: colon) && !("0"..."9").contains($0) } ?? s.endIndex
        defer { s = s[end...] }
        return String(String.UnicodeScalarView(s[..<end]))
    }

    private static func metricName(_ s: inout ArraySlice<Unicode.Scalar>) -> String { name(&s, colon: true) }
    private static func labelName(_ s: inout ArraySlice<Unicode.Scalar>) -> String { name(&s, colon: false) }

    /// Backslash only before `\`, `n` (and `"` in quoted label values); no raw line feed (a CR is text).
    private static func escapesValid(_ s: ArraySlice<Unicode.Scalar>, quoted: Bool) -> Bool {
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "\n" { return false }
            if s[i] == "\\" {
                guard i + 1 < s.endIndex, s[i + 1] == "\\" || s[i + 1] == "n" || (quoted && s[i + 1] == "\"") else { return false }
                i += 1
            }
            i += 1
        }
        return true
    }

    /// Reads up to the closing quote; nil if there is none or an escape is invalid.
    private static func quotedValue(_ s: inout ArraySlice<Unicode.Scalar>) -> String? {
        var i = s.startIndex
        while i < s.endIndex, s[i] != "\"" {
            if s[i] == "\\" { i += 1 }
            i += 1
        }
        guard i < s.endIndex, escapesValid(s[s.startIndex..<i], quoted: true) else { return nil }
        defer { s = s[(i + 1)...] }
        return String(String.UnicodeScalarView(s[..<i]))
    }

    /// Go's ParseFloat as Prometheus uses it: decimals, exponents, NaN and ±Inf.
    static func isNumber(_ text: String) -> Bool {
        if ["NaN", "+Inf", "-Inf"].contains(text) { return true }
        var s = Substring(text)
        if s.first == "-" || s.first == "+" { s = s.dropFirst() }
        let mantissa = s.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !mantissa.isEmpty, mantissa.count(where: { $0 == "." }) <= 1, mantissa != "." else { return false }
        s = s.dropFirst(mantissa.count)
        if s.isEmpty { return true }
        guard s.first == "e" || s.first == "E" else { return false }
        s = s.dropFirst()
        if s.first == "-" || s.first == "+" { s = s.dropFirst() }
        return !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
