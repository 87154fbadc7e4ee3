import HTTPClient
import XCTest
@testable import ProbeLogic

/// Table tests of an `http` target's verdict, as the prober and runner reach it
/// (`Classifier.httpStatus`, then `AnswerChecks.apply`): no network.
final class HTTPProbeAssertionTests: XCTestCase {
    let document = Array(#"""
    {"status":"ok","version":"1.2.3","ready":true,"off":false,"count":3,"zero":0,"one":1,"ratio":0.5,"big":1e3,
     "nothing":null,"checks":[{"name":"db","state":"up"},{"name":"cache","state":"degraded"}],"empty":{}}
    """#.utf8)

    func evaluate(_ check: HTTPCheck, status: Int = 200, headers: [HTTPHeader] = [], body: [UInt8]? = nil,
                  credentialsSent: Bool = false) -> Outcome {
        let headers = HTTPHeaders(headers)
        let verdict = Classifier.httpStatus(status, expected: check.expectedStatus, credentialsSent: credentialsSent,
                                            wwwAuthenticate: headers["www-authenticate"])
        return check.expect.apply(to: verdict, headers: headers, body: body ?? document)
    }

    func testStatusRanges() {
        typealias Row = (expected: [ClosedRange<Int>], status: Int, creds: Bool, HealthStatus, ProbeErrorType?, line: UInt)
        let table: [Row] = [
            ([200...299], 200, false, .healthy, nil, #line),
            ([200...299], 204, false, .healthy, nil, #line),
            ([200...299], 500, false, .unhealthy, .http5xx, #line),
            ([200...299], 503, false, .unhealthy, .http5xx, #line),
            ([200...299], 404, false, .unhealthy, .http4xx, #line),
            ([200...299], 302, false, .unhealthy, .redirect, #line),
            ([200...299], 101, false, .unhealthy, .http4xx, #line),
            ([200...299], 401, false, .alive, nil, #line),
            ([200...299], 403, false, .alive, nil, #line),
            ([200...299], 401, true, .degraded, .authRejected, #line),
            ([200...299], 403, true, .degraded, .authRejected, #line),
            ([200...200, 404...404], 404, false, .healthy, nil, #line),
            ([200...200, 404...404], 201, false, .unhealthy, .http4xx, #line),
            ([401...401], 401, false, .healthy, nil, #line),
            ([500...599], 503, false, .healthy, nil, #line),
            ([300...399], 302, false, .healthy, nil, #line),
        ]
        for row in table {
            let outcome = evaluate(HTTPCheck(expectedStatus: row.expected), status: row.status, credentialsSent: row.creds)
            XCTAssertEqual(outcome.health, row.3, "\(row.status) in \(row.expected): \(outcome.message)", line: row.line)
            XCTAssertEqual(outcome.errorType, row.4, line: row.line)
        }
    }

    func testStatusFailureSkipsBodyAssertions() throws {
        let outcome = evaluate(HTTPCheck(bodyMatches: [try RegularExpression("never")]), status: 500)
        XCTAssertEqual(outcome.errorType, .http5xx)
    }

    func testBodyRegexes() throws {
        typealias Row = (must: [String], mustNot: [String], HealthStatus, message: String?, line: UInt)
        let table: [Row] = [
            ([#""status":"ok""#], [], .healthy, nil, #line),
            (["^\\{"], ["\"error\""], .healthy, nil, #line),
            (["(?i)STATUS"], [], .healthy, nil, #line),
            (["\"status\":\"down\""], [], .unhealthy, "body does not match body_matches[0]", #line),
            (["ok", "missing-thing"], [], .unhealthy, "body does not match body_matches[1]", #line),
            ([], ["degraded"], .unhealthy, "body matches body_not_matches[0]", #line),
            (["nope"], ["degraded"], .unhealthy, "body does not match body_matches[0] (+1 more)", #line),
        ]
        for row in table {
            let outcome = evaluate(HTTPCheck(bodyMatches: try row.must.map(RegularExpression.init),
                                             bodyNotMatches: try row.mustNot.map(RegularExpression.init)))
            XCTAssertEqual(outcome.health, row.2, outcome.message, line: row.line)
            if let message = row.message {
                XCTAssertEqual(outcome.errorType, .assertionFailed, line: row.line)
                XCTAssertEqual(outcome.message, message, line: row.line)
            }
        }
    }

    /// A pattern is compiled when the config is loaded, so one that does not compile never reaches a probe.
    func testRegularExpressionCompilesOnceAndComparesByPattern() throws {
        for invalid in ["(", "[", "a{2,1}"] {
            XCTAssertThrowsError(try RegularExpression(invalid), invalid)
        }
        let regex = try RegularExpression("^probe-")
        XCTAssertEqual(regex, try RegularExpression("^probe-"))
        XCTAssertNotEqual(regex, try RegularExpression("^probe"))
        XCTAssertEqual(regex.pattern, "^probe-")
        XCTAssertTrue(regex.matches("probe-faults"))
        XCTAssertFalse(regex.matches("a probe-faults"))
    }

    func testBodyRegexOnNonUTF8Body() throws {
        let outcome = evaluate(HTTPCheck(bodyMatches: [try RegularExpression("tail")]), body: [0xFF, 0xFE, 0x00] + Array("tail".utf8))
        XCTAssertEqual(outcome.health, .healthy)
    }

    func testJSONFields() {
        typealias Row = (path: String, equals: String, pass: Bool, line: UInt)
        let table: [Row] = [
            ("status", "ok", true, #line),
            ("status", "OK", false, #line),
            ("version", "1.2.3", true, #line),
            ("checks.0.name", "db", true, #line),
            ("checks.1.state", "degraded", true, #line),
            ("checks.1.state", "up", false, #line),
            ("count", "3", true, #line),
            ("count", "3.0", true, #line),
            ("count", "4", false, #line),
            ("ratio", "0.5", true, #line),
            ("big", "1000", true, #line),
            ("ready", "true", true, #line),
            ("ready", "1", false, #line),
            ("off", "false", true, #line),
            ("one", "1", true, #line),
            ("one", "true", false, #line),
            ("zero", "false", false, #line),
            ("nothing", "null", true, #line),
            ("empty", "{}", true, #line),
            ("missing", "x", false, #line),
            ("checks.2.name", "x", false, #line),
            ("checks.x", "x", false, #line),
            ("status.deeper", "x", false, #line),
            ("", "x", false, #line),
        ]
        for row in table {
            let outcome = evaluate(HTTPCheck(jsonFields: [JSONFieldAssertion(path: row.path, equals: row.equals)]))
            XCTAssertEqual(outcome.health, row.pass ? .healthy : .unhealthy, "\(row.path) == \(row.equals): \(outcome.message)",
                           line: row.line)
            if !row.pass {
                XCTAssertEqual(outcome.errorType, .assertionFailed, line: row.line)
                XCTAssertTrue(outcome.message.contains("json field \(row.path)"), outcome.message, line: row.line)
            }
        }
    }

    func testJSONFieldMessages() {
        let mismatch = evaluate(HTTPCheck(jsonFields: [JSONFieldAssertion(path: "checks.1.state", equals: "up")]))
        XCTAssertEqual(mismatch.message, "json field checks.1.state: expected up")
        // The actual value is response content (it may echo a key): never quoted.
        let echoed = evaluate(HTTPCheck(jsonFields: [JSONFieldAssertion(path: "headers.x-api-key", equals: "k")]),
                              body: Array(#"{"headers":{"x-api-key":"s3cr3t-key"}}"#.utf8))
        XCTAssertEqual(echoed.message, "json field headers.x-api-key: expected k")
        let echoedObject = evaluate(HTTPCheck(jsonFields: [JSONFieldAssertion(path: "headers", equals: "k")]),
                                    body: Array(#"{"headers":{"x-api-key":"s3cr3t-key"}}"#.utf8))
        XCTAssertEqual(echoedObject.message, "json field headers: expected k")
        let missing = evaluate(HTTPCheck(jsonFields: [JSONFieldAssertion(path: "nope", equals: "x")]))
        XCTAssertEqual(missing.message, "json field nope missing")
        let notJSON = evaluate(HTTPCheck(jsonFields: [JSONFieldAssertion(path: "a", equals: "x")]), body: Array("<html>".utf8))
        XCTAssertEqual(notJSON.message, "body is not JSON (json_fields)")
        let topLevelArray = evaluate(HTTPCheck(jsonFields: [JSONFieldAssertion(path: "1", equals: "b")]), body: Array(#"["a","b"]"#.utf8))
        XCTAssertEqual(topLevelArray.health, .healthy, topLevelArray.message)
    }

    func testHeaderRegexesNeverEchoValues() throws {
        let headers = [HTTPHeader("X-Service", "probe-faults"), HTTPHeader("Set-Cookie", "a=1"),
                       HTTPHeader("set-cookie", "session=s3cr3t-value")]
        typealias Row = (name: String, regex: String, message: String?, line: UInt)
        let table: [Row] = [
            ("x-service", "^probe-", nil, #line),
            ("X-SERVICE", "faults$", nil, #line),
            ("Set-Cookie", "^session=", nil, #line),  // any of several values
            ("Set-Cookie", "^token=", "header Set-Cookie does not match", #line),
            ("X-Missing", ".", "header X-Missing missing", #line),
        ]
        for (name, regex, message, line) in table {
            let assertion = HeaderAssertion(name: name, regex: try RegularExpression(regex))
            let outcome = evaluate(HTTPCheck(headerMatches: [assertion]), headers: headers)
            if let message {
                XCTAssertEqual(outcome.health, .unhealthy, line: line)
                XCTAssertEqual(outcome.errorType, .assertionFailed, line: line)
                XCTAssertEqual(outcome.message, message, line: line)
                XCTAssertFalse(outcome.message.contains("s3cr3t"), line: line)
            } else {
                XCTAssertEqual(outcome.health, .healthy, outcome.message, line: line)
            }
        }
    }

    func testAllAssertionKindsTogether() throws {
        let check = HTTPCheck(bodyMatches: [try RegularExpression("ok")], bodyNotMatches: [try RegularExpression("fatal")],
                              jsonFields: [JSONFieldAssertion(path: "checks.0.state", equals: "up")],
                              headerMatches: [HeaderAssertion(name: "content-type", regex: try RegularExpression("json"))])
        XCTAssertEqual(evaluate(check, headers: [HTTPHeader("Content-Type", "application/json")]).health, .healthy)
        let failed = evaluate(check, headers: [HTTPHeader("Content-Type", "text/plain")])
        XCTAssertEqual(failed.errorType, .assertionFailed)
        XCTAssertEqual(failed.message, "header content-type does not match")
    }
}
