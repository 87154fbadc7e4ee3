import Foundation
import HTTPClient

/// Pure evaluation of a plain HTTP check's expectations against one response. Messages name the
/// field and the expectation, never what the response held (a header, body or JSON value may
/// echo a secret).
public enum HTTPAssertions {
    public static func evaluate(check: HTTPCheck, status: Int, headers: HTTPHeaders, body: [UInt8],
                                credentialsSent: Bool = false) -> Outcome {
        guard check.expectedStatus.contains(where: { $0.contains(status) }) else {
            return unexpected(status: status, credentialsSent: credentialsSent, wwwAuthenticate: headers["www-authenticate"])
        }
        let failures = failedAssertions(check, headers: headers, body: body)
        guard let first = failures.first else { return Outcome(.healthy) }
        let more = failures.count > 1 ? " (+\(failures.count - 1) more)" : ""
        return Outcome(.unhealthy, .assertionFailed, first + more)
    }

    /// A status outside the expected ranges. 401/403 follow the MCP rule (`Classifier.authAnswer`).
    static func unexpected(status: Int, credentialsSent: Bool, wwwAuthenticate: String?) -> Outcome {
        if let outcome = Classifier.authAnswer(status: status, credentialsSent: credentialsSent, wwwAuthenticate: wwwAuthenticate) {
            return outcome
        }
        switch status {
        case 300..<400: return Outcome(.unhealthy, .redirect, "HTTP \(status) redirect not followed")
        case 500..<600: return Outcome(.unhealthy, .http5xx, "HTTP \(status)")
        default: return Outcome(.unhealthy, .http4xx, "HTTP \(status) not in the expected status codes")
        }
    }

    static func failedAssertions(_ check: HTTPCheck, headers: HTTPHeaders, body: [UInt8]) -> [String] {
        var failures: [String] = []
        let text = String(decoding: body, as: UTF8.self)
        for (i, pattern) in check.bodyMatches.enumerated() {
            switch matches(pattern, text) {
            case true?: break
            case false?: failures.append("body does not match body_matches[\(i)]")
            case nil: failures.append("body_matches[\(i)] is not a valid regular expression")
            }
        }
        for (i, pattern) in check.bodyNotMatches.enumerated() {
            switch matches(pattern, text) {
            case false?: break
            case true?: failures.append("body matches body_not_matches[\(i)]")
            case nil: failures.append("body_not_matches[\(i)] is not a valid regular expression")
            }
        }
        if !check.jsonFields.isEmpty {
            if let document = JSONPath.document(body) {
                for field in check.jsonFields {
                    if let failure = jsonFieldFailure(field, in: document) { failures.append(failure) }
                }
            } else {
                failures.append("body is not JSON (json_fields)")
            }
        }
        for assertion in check.headerMatches {
            let values = headers.values(assertion.name)
            if values.isEmpty {
                failures.append("header \(assertion.name) missing")
            } else if let regex = try? NSRegularExpression(pattern: assertion.regex) {
                if !values.contains(where: { regex.hasMatch(in: $0) }) { failures.append("header \(assertion.name) does not match") }
            } else {
                failures.append("header \(assertion.name): not a valid regular expression")
            }
        }
        return failures
    }

    /// True/false, or nil for an invalid pattern.
    static func matches(_ pattern: String, _ text: String) -> Bool? {
        (try? NSRegularExpression(pattern: pattern))?.hasMatch(in: text)
    }

    static func jsonFieldFailure(_ field: JSONFieldAssertion, in document: Any) -> String? {
        guard let value = JSONPath.value(at: field.path, in: document) else { return "json field \(field.path) missing" }
        if jsonEquals(value, field.equals) { return nil }
        return "json field \(field.path): expected \(field.equals)"
    }

    /// Strings compare as text; numbers, booleans and null by their JSON text (numbers also by value: 1.0 == "1").
    static func jsonEquals(_ value: Any, _ expected: String) -> Bool {
        if let string = value as? String { return string == expected }
        if JSONPath.text(of: value) == expected { return true }
        if let number = value as? NSNumber, !JSONPath.isBool(number), let wanted = Double(expected) {
            return number.doubleValue == wanted
        }
        return false
    }
}

extension NSRegularExpression {
    func hasMatch(in text: String) -> Bool {
        firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
