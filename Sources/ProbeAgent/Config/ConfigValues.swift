import Foundation
import HTTPClient
import ProbeLogic
import Yams

/// Typed reads of one value. Each reports what was expected and returns nil when the value is wrong.
extension ConfigNode {
    /// A scalar's text with `${NAME}` replaced from the environment.
    func text() -> String? {
        guard case .scalar(let scalar) = node else { return fail("expected a single value, got \(kindName)") }
        switch EnvInterpolation.expand(scalar.string, environment: context.environment) {
        case .success(let text): return text
        case .failure(let failure): return fail(failure.description)
        }
    }

    /// Like `text()`, but the value is never repeated in a message. Secrets end up in headers,
    /// so control characters (a pasted line break) are refused here rather than on every probe.
    func secret() -> Secret? {
        guard let text = text() else { return nil }
        guard !text.isEmpty else { return fail("is empty") }
        return HTTPHeader.isFieldValue(text) ? Secret(text) : fail(HeaderDecoder.valueProblem)
    }

    func nonEmptyText(_ expected: String) -> String? {
        guard let text = text() else { return nil }
        return text.isEmpty ? fail("is empty (expected \(expected))") : text
    }

    /// A duration greater than zero and at most `DurationText.longest`.
    func duration() -> Duration? {
        guard let text = text() else { return nil }
        switch DurationText.parse(text) {
        case .success(let duration): return duration
        case .failure(let problem): return fail("\"\(text)\" \(problem)")
        }
    }

    /// A whole number in `range`; digits too many for an `Int` are out of range, not a trap.
    func int(in range: ClosedRange<Int>) -> Int? {
        guard let text = text() else { return nil }
        let expected = "expected \(range.lowerBound) to \(range.upperBound)"
        guard let value = Int(text) else {
            let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : text[...]
            let isNumber = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
            return fail("\"\(text)\" " + (isNumber ? "is out of range (\(expected))" : "is not a whole number (\(expected))"))
        }
        return range.contains(value) ? value : fail("\(value) is out of range (\(expected))")
    }

    func bool() -> Bool? {
        guard let text = text() else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: return fail("\"\(text)\" is not a boolean (expected true or false)")
        }
    }

    /// One of a fixed set of words.
    func choice(_ allowed: [String]) -> String? {
        guard let text = text() else { return nil }
        return allowed.contains(text) ? text : fail("\"\(text)\" is not one of: \(allowed.joined(separator: ", "))")
    }

    func choice<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> E? where E.RawValue == String {
        choice(E.allCases.map(\.rawValue)).flatMap(E.init(rawValue:))
    }

    /// An absolute http:// or https:// URL with a host.
    func httpURL() -> String? {
        guard let text = text() else { return nil }
        return HTTPURLRule.isValid(text) ? text : fail(HTTPURLRule.problem(text))
    }

    /// A file path, relative paths taken from the config file's directory.
    func filePath() -> String? {
        guard let text = nonEmptyText("a file path") else { return nil }
        guard let base = context.baseDirectory, !text.hasPrefix("/") else { return text }
        return (base as NSString).appendingPathComponent(text)
    }

    /// A path that must be readable now (CA bundles, client certificates).
    func readablePath() -> String? {
        guard let path = filePath() else { return nil }
        do {
            _ = try context.readFile(path)
            return path
        } catch {
            return fail("cannot read \(path) (\(error))")
        }
    }

    /// A secret read from the file this value names, trimmed.
    func fileSecret() -> Secret? {
        guard let path = filePath() else { return nil }
        let contents: String
        do {
            contents = try context.readFile(path)
        } catch {
            return fail("cannot read \(path) (\(error))")
        }
        let trimmed = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return fail("\(path) is empty") }
        return HTTPHeader.isFieldValue(trimmed) ? Secret(trimmed) : fail("\(path): \(HeaderDecoder.valueProblem)")
    }

    /// The `name: value` pairs of a free-form mapping, values as text.
    func textEntries() -> [(key: String, value: String, node: ConfigNode)] {
        (entries() ?? []).compactMap { entry in entry.value.text().map { (entry.key, $0, entry.value) } }
    }
}

/// The one rule for a URL the user gives (a target, `check URL`, token endpoints, the collector):
/// absolute http(s) with a host, and parsed by libcurl as the probe will be.
enum HTTPURLRule {
    static func isValid(_ text: String) -> Bool {
        HTTPURL(text)?.isReadByLibcurl == true
    }

    /// The message for an invalid URL: redacted, control characters not echoed.
    static func problem(_ text: String) -> String {
        let shown = String(String.UnicodeScalarView(HTTPURL.redact(text).unicodeScalars.map { isControl($0) ? "?" : $0 }))
        let hint = switch Result(catching: { () throws(HTTPURL.Problem) in try HTTPURL(parsing: text) }) {
        case .failure(.spaceOrControl): " (spaces and control characters must be percent-encoded)"
        case .failure(.hashInUserinfo): " (a '#' in the userinfo must be percent-encoded as %23)"
        default: ""
        }
        return "\"\(shown)\" is not an http:// or https:// URL with a host\(hint)"
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x20 || scalar.value == 0x7F }
}
