import Foundation
import HTTPClient
import TestSupport
import Tracing
import XCTest
@testable import ProbeLogic

/// The legacy HTTP+SSE probe against broken servers (Tests/Fixtures/faults_server.py) and unreachable ones.
final class LegacySSEFaultTests: XCTestCase {
    static let faults = SharedServer<FixtureServer>()

    override class func tearDown() {
        faults.stop()
        super.tearDown()
    }

    func probe(_ path: String, timeout: Duration = .seconds(5), initialize: Bool = true,
               auth: AuthConfig = .none) async throws -> (ProbeReport, [SpanData], Duration) {
        let server = try Self.faults.get()
        return await probeURL(server.baseURL + path, timeout: timeout, initialize: initialize, auth: auth)
    }

    func probeURL(_ url: String, timeout: Duration = .seconds(5), initialize: Bool = true,
                  auth: AuthConfig = .none) async -> (ProbeReport, [SpanData], Duration) {
        let target = Target(name: "faults", url: url, kind: .mcp(MCPOptions(transport: .sse)), timeout: timeout, auth: auth)
        return await ProbeHarness().run(LegacySSEProbe(initialize: initialize), target)
    }

    func openStreams() async throws -> Int {
        let server = try Self.faults.get()
        return (try await fetchJSON(server.baseURL + "/_stats") as? [String: Any])?["open_streams"] as? Int ?? -1
    }

    func testNoEndpointEventTimesOutWithinTheProbeTimeoutAndClosesTheStream() async throws {
        let (report, spans, elapsed) = try await probe("/sse-no-endpoint", timeout: .milliseconds(1500))
        XCTAssertEqual(report.outcome.health, .unhealthy)
        XCTAssertEqual(report.outcome.errorType, .timeout)
        XCTAssertTrue(report.outcome.message.hasPrefix("no endpoint event"), report.outcome.message)
        XCTAssertEqual(report.httpStatus, 200)
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(1400))
        XCTAssertLessThan(elapsed, .milliseconds(2500))
        let get = try XCTUnwrap(spans.httpClients.first)
        XCTAssertEqual(get.attributes["error.type"], "timeout")
        let closed = try await eventually { try await openStreams() == 0 }
        XCTAssertTrue(closed, "the GET stream is still open on the server")
    }

    func testEndpointPOST404NamesTheLikelyCause() async throws {
        let (report, spans, _) = try await probe("/sse-endpoint-404")
        XCTAssertEqual(report.outcome.health, .unhealthy)
        XCTAssertEqual(report.outcome.errorType, .http4xx)
        XCTAssertEqual(report.outcome.message, "endpoint POST 404 (mount prefix dropped?)")
        XCTAssertEqual(report.httpStatus, 200, "the GET's status")
        XCTAssertEqual(spans.httpClients.map(\.name).sorted(), ["GET", "POST"])
    }

    func testWrongContentTypeIsAnInvalidResponse() async throws {
        let (report, _, _) = try await probe("/sse-wrong-type")
        XCTAssertEqual(report.outcome.health, .unhealthy)
        XCTAssertEqual(report.outcome.errorType, .invalidResponse)
        XCTAssertTrue(report.outcome.message.contains("text/html"), report.outcome.message)
    }

    func testGarbageBeforeTheEndpointIsSkipped() async throws {
        let (report, _, _) = try await probe("/sse-stream-garbage")
        XCTAssertEqual(report.outcome.health, .healthy, report.outcome.message)
        XCTAssertEqual(report.server?.serverName, "faults")
        XCTAssertEqual(report.server?.protocolVersion, "2024-11-05")
    }

    func testRelativeAndAbsoluteEndpointsResolve() async throws {
        for path in ["/mnt/sse-ok?ref=root", "/mnt/sse-ok?ref=relative", "/sse-ok?ref=absolute"] {
            let (report, _, _) = try await probe(path)
            XCTAssertEqual(report.outcome.health, .healthy, "\(path): \(report.outcome.message)")
            XCTAssertNil(report.attributes.first { $0.key == "mcp.sse.endpoint.cross_origin" }, path)
        }
        let closed = try await eventually { try await openStreams() == 0 }
        XCTAssertTrue(closed)
    }

    func testCrossOriginEndpointIsRecordedAndGetsNoCredentials() async throws {
        let bearer = AuthConfig.bearer(token: Secret("t"))
        let (same, _, _) = try await probe("/sse-ok?ref=absolute", auth: bearer)
        XCTAssertEqual(same.outcome.health, .healthy, same.outcome.message)
        let (other, _, _) = try await probe("/sse-ok?ref=other-origin", auth: bearer)
        XCTAssertEqual(other.outcome.health, .healthy, other.outcome.message)
        XCTAssertEqual(other.attributes.first { $0.key == "mcp.sse.endpoint.cross_origin" }?.value, .bool(true))
        let server = try Self.faults.get()
        let auth = (try await fetchJSON(server.baseURL + "/_stats") as? [String: Any])?["message_auth"] as? [Bool]
        XCTAssertEqual(auth?.suffix(2), [true, false], "the token goes only to the configured origin")
    }

    func testGETStatusIsClassified() async throws {
        let table: [(String, AuthConfig, HealthStatus, ProbeErrorType?, UInt)] = [
            ("/status/404", .none, .unhealthy, .http4xx, #line),
            ("/status/405", .none, .unhealthy, .http4xx, #line),
            ("/status/401", .none, .alive, nil, #line),
            ("/status/403", .none, .alive, nil, #line),
            ("/status/401", .bearer(token: Secret("t")), .degraded, .authRejected, #line),
            ("/status/500", .none, .unhealthy, .http5xx, #line),
        ]
        for (path, auth, health, errorType, line) in table {
            let (report, _, _) = try await probe(path, auth: auth)
            XCTAssertEqual(report.outcome.health, health, "\(path): \(report.outcome.message)", line: line)
            XCTAssertEqual(report.outcome.errorType, errorType, path, line: line)
            XCTAssertEqual(report.transport, .sse, line: line)
        }
    }

    /// The SSE GET or the initialize answer broke a limit or a protocol rule: unhealthy with a
    /// precise error.type as soon as it arrives.
    func testAnswersBreakingALimitOrAProtocolRuleAreUnhealthy() async throws {
        let table: [(String, String, UInt)] = [
            ("/many-headers", "response_too_large", #line),
            ("/huge-header-line", "response_too_large", #line),
            ("/malformed/not-http", "invalid_http", #line),
            ("/malformed/bad-length", "invalid_http", #line),
            ("/sse-ok?reply=wrong-id", "jsonrpc_id_mismatch", #line),
        ]
        for (path, errorType, line) in table {
            let (report, _, elapsed) = try await probe(path, timeout: .seconds(10))
            XCTAssertEqual(report.outcome.health, .unhealthy, "\(path): \(report.outcome.message)", line: line)
            XCTAssertEqual(report.outcome.errorType?.rawValue, errorType, "\(path): \(report.outcome.message)", line: line)
            XCTAssertLessThan(elapsed, .seconds(5), path, line: line)
        }
    }

    /// A deep-check answer for another id ends the wait at once (it used to wait for the timeout);
    /// a deep-check exchange that fails carries the transport's error.type.
    func testDeepCheckFailuresSayWhatHappened() async throws {
        let server = try Self.faults.get()
        let options = MCPOptions(transport: .sse, deep: DeepCheck(listTools: true))
        let table: [(String, HealthStatus, String?, UInt)] = [
            ("", .healthy, nil, #line),
            ("wrong-tools-id", .degraded, "jsonrpc_id_mismatch", #line),
            ("malformed-tools", .degraded, "invalid_http", #line),
        ]
        for (reply, health, errorType, line) in table {
            let target = Target(name: "faults", url: server.baseURL + "/sse-ok?reply=\(reply)", kind: .mcp(options), timeout: .seconds(10))
            let (report, _, elapsed) = await ProbeHarness().run(LegacySSEProbe(), target)
            XCTAssertEqual(report.outcome.health, health, "\(reply): \(report.outcome.message)", line: line)
            XCTAssertEqual(report.outcome.errorType?.rawValue, errorType, report.outcome.message, line: line)
            XCTAssertLessThan(elapsed, .seconds(5), reply, line: line)
        }
    }

    func testClosedPortIsRefused() async throws {
        let port = try freeLoopbackPort()
        let (report, _, _) = await probeURL("http://127.0.0.1:\(port)/sse")
        XCTAssertEqual(report.outcome.health, .unreachable)
        XCTAssertEqual(report.outcome.errorType, .connectionRefused)
        XCTAssertNil(report.httpStatus)
    }

    func testInvalidHostNameFailsAsDNS() async throws {
        let (report, spans, elapsed) = await probeURL("http://mcp.invalid/sse")
        XCTAssertEqual(report.outcome.health, .unreachable)
        XCTAssertEqual(report.outcome.errorType, .dns)
        XCTAssertLessThan(elapsed, .seconds(1))
        XCTAssertEqual(spans.httpClients.first?.attributes["error.type"], "dns")
    }

    func testBlackholeTimesOut() async throws {
        let blackhole = try FixtureServer(script: "faults_server.py", args: ["{port}", "--blackhole"])
        defer { blackhole.stop() }
        let (report, _, elapsed) = await probeURL(blackhole.baseURL + "/sse", timeout: .seconds(1))
        XCTAssertEqual(report.outcome.health, .unreachable)
        XCTAssertEqual(report.outcome.errorType, .timeout)
        XCTAssertLessThan(elapsed, .seconds(2))
    }
}
