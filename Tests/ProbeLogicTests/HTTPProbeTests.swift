import Foundation
import HTTPClient
import TestSupport
import Tracing
import XCTest
@testable import ProbeLogic

/// The plain HTTP probe against Tests/Fixtures/faults_server.py (HTTP and HTTPS).
final class HTTPProbeTests: XCTestCase {
    static let faults = SharedServer<FixtureServer>()
    static let tls = SharedServer<TLSFaultsServer>(make: { try TLSFaultsServer.start() }, stop: { $0.stop() })

    override class func tearDown() {
        faults.stop()
        tls.stop()
        super.tearDown()
    }

    func probe(_ path: String, _ check: HTTPCheck = HTTPCheck(), timeout: Duration = .seconds(5),
               auth: AuthConfig = .none, headers: [HTTPHeader] = []) async throws -> (ProbeReport, [SpanData], Duration) {
        let server = try Self.faults.get()
        let target = Target(name: "web", url: server.baseURL + path, kind: .http(check), timeout: timeout,
                            headers: headers, auth: auth)
        return await ProbeHarness().run(HTTPProbe(), target)
    }

    /// An IPv6 literal URL: probed over ::1, `server.address` without brackets, the origin with them.
    func testIPv6LoopbackTarget() async throws {
        let server = try FixtureServer(script: "faults_server.py", args: ["{port}", "--ipv6"])
        defer { server.stop() }
        let target = Target(name: "v6", url: server.baseURL + "/json", kind: .http(HTTPCheck()), timeout: .seconds(5))
        let (report, spans, _) = await ProbeHarness().run(HTTPProbe(), target)
        XCTAssertEqual(report.outcome.health, .healthy, report.outcome.message)
        XCTAssertEqual(report.httpStatus, 200)
        let client = try XCTUnwrap(spans.first { $0.kind == .client })
        XCTAssertEqual(client.attributes["server.address"], "::1")
        XCTAssertEqual(client.attributes["server.port"], .int(Int64(server.port)))
        XCTAssertEqual(client.attributes["url.full"], .string("http://[::1]:\(server.port)/json"))
        XCTAssertEqual(HTTPURL(target.url)?.origin, "http://[::1]:\(server.port)")
        XCTAssertFalse(loopbackPortAccepts(server.port), "the fixture listens on ::1 only, so the probe really used IPv6")
    }

    func testHealthyAnswerAndItsSpans() async throws {
        let (report, spans, _) = try await probe("/json")
        XCTAssertEqual(report.outcome.health, .healthy, report.outcome.message)
        XCTAssertEqual(report.httpStatus, 200)
        XCTAssertNil(report.transport)
        XCTAssertEqual(report.probeType, .anonymous)
        XCTAssertNil(report.certificateNotAfter, "plain http has no certificate")
        XCTAssertGreaterThan(report.timings?.total ?? .zero, .zero)
        let root = try XCTUnwrap(spans.first { $0.name == "probe" })
        XCTAssertNil(root.attributes["mcp.transport"])
        XCTAssertEqual(root.attributes["health.status"], "healthy")
        XCTAssertEqual(root.status.code, .ok)
        let clients = spans.filter { $0.kind == .client }
        XCTAssertEqual(clients.map(\.name), ["GET"])
        XCTAssertEqual(clients.first?.parentSpanID, root.context.spanID)
        XCTAssertEqual(clients.first?.attributes["http.response.status_code"], .int(200))
        XCTAssertTrue(clients.first?.events.contains { $0.name == "connect" } == true)
    }

    func testServerErrorIsUnhealthy() async throws {
        let (report, spans, _) = try await probe("/status/500")
        XCTAssertEqual(report.outcome.health, .unhealthy)
        XCTAssertEqual(report.outcome.errorType, .http5xx)
        XCTAssertEqual(report.httpStatus, 500)
        let root = try XCTUnwrap(spans.first { $0.name == "probe" })
        XCTAssertEqual(root.attributes["error.type"], "http_5xx")
        XCTAssertEqual(root.status.code, .error)
    }

    func testExpectedStatusOtherThan2xx() async throws {
        let check = HTTPCheck(method: "POST", body: "{}", expectedStatus: [404...404])
        let (report, spans, _) = try await probe("/status/404", check)
        XCTAssertEqual(report.outcome.health, .healthy, report.outcome.message)
        XCTAssertEqual(spans.first { $0.kind == .client }?.name, "POST")
    }

    func testUnauthenticated401IsAliveAndAuthenticatedIsDegraded() async throws {
        let (anonymous, _, _) = try await probe("/status/401")
        XCTAssertEqual(anonymous.outcome.health, .alive)
        let (bearer, _, _) = try await probe("/status/401", auth: .bearer(token: Secret("t")))
        XCTAssertEqual(bearer.probeType, .authenticated)
        XCTAssertEqual(bearer.outcome.health, .degraded)
        XCTAssertEqual(bearer.outcome.errorType, .authRejected)
    }

    /// The 401/403 step is the MCP probers' one: `auth.status` says why, for plain HTTP too (the
    /// Bearer challenge check is MCP authorization and stays with MCP targets).
    func testAuthStatusOnA401Or403() async throws {
        let table: [(String, AuthConfig, HealthStatus, String)] = [
            ("/status/401", .none, .alive, "required"),
            ("/status/401", .bearer(token: Secret("t")), .degraded, "rejected"),
            ("/status/403", .none, .alive, "required"),
            ("/status/403", .basic(username: "u", password: Secret("p")), .degraded, "forbidden"),
        ]
        for (path, auth, health, status) in table {
            let (report, spans, _) = try await probe(path, auth: auth)
            XCTAssertEqual(report.outcome.health, health, path)
            let root = try XCTUnwrap(spans.first { $0.name == "probe" })
            XCTAssertEqual(root.attributes["auth.status"], .string(status), "\(path) \(auth)")
            XCTAssertNil(root.attributes["auth.challenge"], "no MCP challenge check for plain HTTP")
        }
    }

    func testBodyRegexAgainstGarbage() async throws {
        let (report, _, _) = try await probe("/garbage", HTTPCheck(bodyMatches: [try RegularExpression(#""status""#)]))
        XCTAssertEqual(report.outcome.health, .unhealthy)
        XCTAssertEqual(report.outcome.errorType, .assertionFailed)
        XCTAssertEqual(report.outcome.message, "body does not match body_matches[0]")
        let (negative, _, _) = try await probe("/garbage", HTTPCheck(bodyNotMatches: [try RegularExpression("not json")]))
        XCTAssertEqual(negative.outcome.errorType, .assertionFailed)
        let (passing, _, _) = try await probe("/garbage", HTTPCheck(bodyMatches: [try RegularExpression("<html>")], bodyNotMatches: [try RegularExpression("error")]))
        XCTAssertEqual(passing.outcome.health, .healthy, passing.outcome.message)
    }

    func testJSONFields() async throws {
        let good = HTTPCheck(jsonFields: [JSONFieldAssertion(path: "status", equals: "ok"),
                                          JSONFieldAssertion(path: "checks.0.latency_ms", equals: "12"),
                                          JSONFieldAssertion(path: "ready", equals: "true")])
        let (healthy, _, _) = try await probe("/json", good)
        XCTAssertEqual(healthy.outcome.health, .healthy, healthy.outcome.message)
        let bad = HTTPCheck(jsonFields: [JSONFieldAssertion(path: "checks.1.state", equals: "up")])
        let (failed, _, _) = try await probe("/json", bad)
        XCTAssertEqual(failed.outcome.errorType, .assertionFailed)
        XCTAssertEqual(failed.outcome.message, "json field checks.1.state: expected up")
    }

    func testHeaderAssertionsNeverEchoValues() async throws {
        let (healthy, _, _) = try await probe("/headers", HTTPCheck(headerMatches: [HeaderAssertion(name: "X-Service", regex: try RegularExpression("^probe-"))]))
        XCTAssertEqual(healthy.outcome.health, .healthy, healthy.outcome.message)
        let (failed, spans, _) = try await probe("/headers", HTTPCheck(headerMatches: [HeaderAssertion(name: "Set-Cookie", regex: try RegularExpression("^token="))]))
        XCTAssertEqual(failed.outcome.errorType, .assertionFailed)
        XCTAssertEqual(failed.outcome.message, "header Set-Cookie does not match")
        for span in spans {
            XCTAssertFalse("\(span.attributes) \(span.status)".contains("secret-cookie-value"))
        }
    }

    func testRedirectFollowedOrNot() async throws {
        let (followed, _, _) = try await probe("/redirect", HTTPCheck(jsonFields: [JSONFieldAssertion(path: "status", equals: "ok")]))
        XCTAssertEqual(followed.outcome.health, .healthy, followed.outcome.message)
        XCTAssertEqual(followed.httpStatus, 200)
        XCTAssertEqual(followed.attributes.first { $0.key == "probe.http.redirects" }?.value, .int(1))
        let (stopped, _, _) = try await probe("/redirect", HTTPCheck(followRedirects: false))
        XCTAssertEqual(stopped.outcome.health, .unhealthy)
        XCTAssertEqual(stopped.outcome.errorType, .redirect)
        XCTAssertEqual(stopped.httpStatus, 302)
        let (expected, _, _) = try await probe("/redirect", HTTPCheck(expectedStatus: [302...302], followRedirects: false))
        XCTAssertEqual(expected.outcome.health, .healthy, expected.outcome.message)
    }

    func testHugeBodyIsTooLargeAndStopsEarly() async throws {
        let (report, _, elapsed) = try await probe("/huge", timeout: .seconds(10))
        XCTAssertEqual(report.outcome.health, .unhealthy)
        XCTAssertEqual(report.outcome.errorType, .responseTooLarge)
        XCTAssertLessThan(elapsed, .seconds(3))
        let server = try Self.faults.get()
        let target = Target(name: "web", url: server.baseURL + "/huge", kind: .http(HTTPCheck()), timeout: .seconds(10))
        let (large, _, _) = await ProbeHarness().run(HTTPProbe(maxBodyBytes: 4 << 20), target)
        XCTAssertEqual(large.outcome.health, .healthy, "a raised cap admits it: \(large.outcome.message)")
    }

    /// The server answered, but broke a limit or HTTP itself: unhealthy with a precise error.type,
    /// decided as soon as the answer arrives (not unreachable, not a timeout).
    func testAnswersBreakingALimitOrHTTPAreUnhealthy() async throws {
        let table: [(String, String, UInt)] = [
            ("/many-headers", "response_too_large", #line),
            ("/huge-header-line", "response_too_large", #line),
            ("/malformed/status-line", "invalid_http", #line),
            ("/malformed/not-http", "invalid_http", #line),
            ("/malformed/bad-length", "invalid_http", #line),
        ]
        for (path, errorType, line) in table {
            let (report, spans, elapsed) = try await probe(path, timeout: .seconds(10))
            XCTAssertEqual(report.outcome.health, .unhealthy, "\(path): \(report.outcome.message)", line: line)
            XCTAssertEqual(report.outcome.errorType?.rawValue, errorType, path, line: line)
            XCTAssertEqual(spans.first { $0.name == "probe" }?.attributes["error.type"], .string(errorType), path, line: line)
            XCTAssertLessThan(elapsed, .seconds(5), path, line: line)
        }
    }

    func testSlowAnswerTimesOut() async throws {
        let (report, _, elapsed) = try await probe("/slow/5", timeout: .seconds(1))
        XCTAssertEqual(report.outcome.health, .unreachable)
        XCTAssertEqual(report.outcome.errorType, .timeout)
        XCTAssertLessThan(elapsed, .milliseconds(2500))
    }

    func testSelfSignedCertificateFailsByDefaultAndPassesWithItsCA() async throws {
        let tls = try Self.tls.get()
        let url = tls.baseURL + "/json"
        let (untrusted, _, _) = await ProbeHarness().run(HTTPProbe(), Target(name: "tls", url: url, kind: .http(HTTPCheck())))
        XCTAssertEqual(untrusted.outcome.health, .unreachable)
        XCTAssertTrue([.certificateInvalid, .tls].contains(untrusted.outcome.errorType), "\(String(describing: untrusted.outcome.errorType))")
        XCTAssertNil(untrusted.certificateNotAfter)

        var target = Target(name: "tls", url: url, kind: .http(HTTPCheck()))
        target.tls.caFile = tls.certFile
        let (trusted, spans, _) = await ProbeHarness().run(HTTPProbe(), target)
        XCTAssertEqual(trusted.outcome.health, .healthy, trusted.outcome.message)
        let notAfter = try XCTUnwrap(trusted.certificateNotAfter)
        XCTAssertEqual(notAfter, try tls.notAfter().timeIntervalSince1970, accuracy: 1)
        XCTAssertTrue(spans.first { $0.kind == .client }?.events.contains { $0.name == "tls" } == true)
    }

    func testRequestCarriesMethodBodyHeadersAndCredentials() async throws {
        let check = HTTPCheck(method: "PUT", body: "hello", jsonFields: [
            JSONFieldAssertion(path: "method", equals: "PUT"),
            JSONFieldAssertion(path: "body", equals: "hello"),
            JSONFieldAssertion(path: "headers.x-api-key", equals: "k"),
            JSONFieldAssertion(path: "headers.authorization", equals: "Basic dTpw"),
        ])
        let (report, _, _) = try await probe("/echo", check, auth: .basic(username: "u", password: Secret("p")),
                                             headers: [HTTPHeader("X-Api-Key", "k")])
        XCTAssertEqual(report.probeType, .authenticated)
        XCTAssertEqual(report.outcome.health, .healthy, report.outcome.message)
        let (plain, _, _) = try await probe("/echo", HTTPCheck(bodyNotMatches: [try RegularExpression("(?i)origin"), try RegularExpression("(?i)authorization")]))
        XCTAssertEqual(plain.outcome.health, .healthy, plain.outcome.message)
    }
}
