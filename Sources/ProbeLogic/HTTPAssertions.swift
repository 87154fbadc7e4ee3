import Foundation
import HTTPClient

/// Pure evaluation of a plain HTTP check's expectations against one response. Messages name the
/// field and the expectation, never what the response held (a header, body or JSON value may
/// echo a secret).
public enum HTTPAssertions {
    public static func evaluate(check: HTTPCheck, status: Int, headers: HTTPHeaders, body: [UInt8],
                                credentialsSent: Bool = false) -> Outcome {
        guard check.expectedStatus.contains(where: { $0.contains(status) }) else {
            return unexpected(status: status, credentialsSent: credentialsSent)
        }
        let failures = failedAssertions(check, headers: headers, body: body)
        guard let first = failures.first else { return Outcome(.healthy) }
        let more = failures.count > 1 ? " (+\(failures.count - 1) more)" : ""
        return Outcome(.unhealthy, .assertionFailed, first + more)
    }

    /// A status outside the expected ranges. Like the MCP rule, 401/403 to a probe that sent no
    /// credentials proves the service is up.
    static func unexpected(status: Int, credentialsSent: Bool) -> Outcome {
        switch status {
        case 401, 403:
            credentialsSent ? Outcome(.degraded, .authRejected, "credentials rejected (\(status))")
                : Outcome(.alive, nil, "authentication required (\(status))")
        case 300..<400: Outcome(.unhealthy, .redirect, "HTTP \(status) redirect not followed")
        case 500..<600: Outcome(.unhealthy, .http5xx, "HTTP \(status)")
        default: Outcome(.unhealthy, .http4xx, "HTTP \(status) not in the expected status codes")
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
            if let document = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) {
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
        guard let value = lookup(field.path, in: document) else { return "json field \(field.path) missing" }
        if jsonEquals(value, field.equals) { return nil }
        return "json field \(field.path): expected \(field.equals)"
    }

    /// Follows a dotted path (`checks.0.state`): object keys, and decimal indexes into arrays.
    static func lookup(_ path: String, in document: Any) -> Any? {
        var current: Any = document
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            if let object = current as? [String: Any], let next = object[String(key)] {
                current = next
            } else if let array = current as? [Any], let index = Int(key), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        return current
    }

    /// Strings compare as text; numbers, booleans and null by their JSON text (numbers also by value: 1.0 == "1").
    static func jsonEquals(_ value: Any, _ expected: String) -> Bool {
        if let string = value as? String { return string == expected }
        if jsonText(value) == expected { return true }
        if let number = value as? NSNumber, !isBool(number), let wanted = Double(expected) {
            return number.doubleValue == wanted
        }
        return false
    }

    static func jsonText(_ value: Any) -> String {
        switch value {
        case let string as String: return string
        case is NSNull: return "null"
        case let number as NSNumber where isBool(number): return number.boolValue ? "true" : "false"
        case let number as NSNumber:
            let double = number.doubleValue
            if double == double.rounded(), abs(double) < 1e15 { return String(number.int64Value) }
            return String(double)
        default:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { return "?" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// JSON booleans come back as NSNumber; only their ObjC type tells them from 0 and 1.
    static func isBool(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
