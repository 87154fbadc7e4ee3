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
        for (i, regex) in check.bodyMatches.enumerated() where !regex.matches(text) {
            failures.append("body does not match body_matches[\(i)]")
        }
        for (i, regex) in check.bodyNotMatches.enumerated() where regex.matches(text) {
            failures.append("body matches body_not_matches[\(i)]")
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
            } else if !values.contains(where: assertion.regex.matches) {
                failures.append("header \(assertion.name) does not match")
            }
        }
        return failures
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
