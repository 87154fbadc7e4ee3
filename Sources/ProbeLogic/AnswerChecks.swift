import Foundation
import HTTPClient

/// What a probe's main answer must satisfy (`body_matches`, `body_not_matches`, `json_fields`,
/// `header_matches`), for every kind: an `http` target's response, an MCP target's `initialize` or
/// `server/discover` answer. Pure. Messages name the field and the expectation, never what the
/// answer held (a header, body or JSON value may echo a secret).
public struct AnswerChecks: Sendable, Equatable {
    /// Regular expressions the body must match / must not match.
    public var bodyMatches: [RegularExpression]
    public var bodyNotMatches: [RegularExpression]
    /// JSON fields (dotted paths, e.g. `status` or `checks.0.state`) and their expected text values.
    public var jsonFields: [JSONFieldAssertion]
    /// Response headers that must match a regular expression.
    public var headerMatches: [HeaderAssertion]

    public init(bodyMatches: [RegularExpression] = [], bodyNotMatches: [RegularExpression] = [],
                jsonFields: [JSONFieldAssertion] = [], headerMatches: [HeaderAssertion] = []) {
        self.bodyMatches = bodyMatches
        self.bodyNotMatches = bodyNotMatches
        self.jsonFields = jsonFields
        self.headerMatches = headerMatches
    }

    public var isEmpty: Bool { bodyMatches.isEmpty && bodyNotMatches.isEmpty && jsonFields.isEmpty && headerMatches.isEmpty }

    /// The verdict with these checks applied: a healthy answer that fails one is `assertion_failed`.
    public func apply(to outcome: Outcome, headers: HTTPHeaders, body: [UInt8]) -> Outcome {
        guard outcome.health == .healthy, !isEmpty else { return outcome }
        let failures = failures(headers: headers, body: body)
        guard let first = failures.first else { return outcome }
        let more = failures.count > 1 ? " (+\(failures.count - 1) more)" : ""
        return Outcome(.unhealthy, .assertionFailed, first + more)
    }

    func failures(headers: HTTPHeaders, body: [UInt8]) -> [String] {
        var failures: [String] = []
        let text = String(decoding: body, as: UTF8.self)
        for (i, regex) in bodyMatches.enumerated() where !regex.matches(text) {
            failures.append("body does not match body_matches[\(i)]")
        }
        for (i, regex) in bodyNotMatches.enumerated() where regex.matches(text) {
            failures.append("body matches body_not_matches[\(i)]")
        }
        if !jsonFields.isEmpty {
            if let document = JSONPath.document(body) {
                failures += jsonFields.compactMap { $0.failure(in: document) }
            } else {
                failures.append("body is not JSON (json_fields)")
            }
        }
        for assertion in headerMatches {
            let values = headers.values(assertion.name)
            if values.isEmpty {
                failures.append("header \(assertion.name) missing")
            } else if !values.contains(where: assertion.regex.matches) {
                failures.append("header \(assertion.name) does not match")
            }
        }
        return failures
    }
}

public struct JSONFieldAssertion: Sendable, Equatable {
    public var path: String
    public var equals: String

    public init(path: String, equals: String) {
        self.path = path
        self.equals = equals
    }

    func failure(in document: Any) -> String? {
        guard let value = JSONPath.value(at: path, in: document) else { return "json field \(path) missing" }
        return Self.matches(value, equals) ? nil : "json field \(path): expected \(equals)"
    }

    /// Strings compare as text; numbers, booleans and null by their JSON text (numbers also by value: 1.0 == "1").
    static func matches(_ value: Any, _ expected: String) -> Bool {
        if let string = value as? String { return string == expected }
        if JSONPath.text(of: value) == expected { return true }
        if let number = value as? NSNumber, !JSONPath.isBool(number), let wanted = Double(expected) {
            return number.doubleValue == wanted
        }
        return false
    }
}

public struct HeaderAssertion: Sendable, Equatable {
    public var name: String
    public var regex: RegularExpression

    public init(name: String, regex: RegularExpression) {
        self.name = name
        self.regex = regex
    }
}
