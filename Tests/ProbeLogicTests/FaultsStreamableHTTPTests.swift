import HTTPClient
import TestSupport
import XCTest
@testable import ProbeLogic

/// The existing StreamableHTTPProbe against MCP-ish faults (Tests/Fixtures/faults_server.py).
final class FaultsStreamableHTTPTests: XCTestCase {
    static let faults = SharedServer<FixtureServer>()

    override class func tearDown() {
        faults.stop()
        super.tearDown()
    }

    func testFaultyInitializeAnswers() async throws {
        let server = try Self.faults.get()
        // The last column: `error.type` of the `initialize` MCP span (the JSON-RPC code as text, else our class).
        let table: [(String, HealthStatus, ProbeErrorType, String, UInt)] = [
            ("/status/500", .unhealthy, .http5xx, "http_5xx", #line),
            ("/status/502", .unhealthy, .http5xx, "http_5xx", #line),
            ("/garbage", .unhealthy, .invalidResponse, "invalid_response", #line),
            ("/invalid-jsonrpc", .unhealthy, .invalidResponse, "invalid_response", #line),
            ("/jsonrpc-error", .degraded, .jsonRPCError, "-32603", #line),
        ]
        for (path, health, errorType, mcpErrorType, line) in table {
            let target = Target(name: "faults", url: server.baseURL + path, kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                                timeout: .seconds(5))
            let (report, spans, _) = await ProbeHarness().run(StreamableHTTPProbe(), target)
            XCTAssertEqual(report.outcome.health, health, "\(path): \(report.outcome.message)", line: line)
            XCTAssertEqual(report.outcome.errorType, errorType, path, line: line)
            XCTAssertEqual(report.transport, .streamableHTTP, line: line)
            XCTAssertEqual(spans.httpClients.map(\.name), ["POST"], "no DELETE without a session", line: line)
            let initialize = spans.mcpClients.first
            XCTAssertEqual(initialize?.attributes["error.type"], .string(mcpErrorType), path, line: line)
            XCTAssertEqual(initialize?.status.code, .error, path, line: line)
            XCTAssertEqual(initialize?.attributes["rpc.response.status_code"], mcpErrorType.hasPrefix("-") ? .string(mcpErrorType) : nil,
                           path, line: line)
        }
    }

    /// A JSON-RPC error's own message is response content and may echo what the request carried:
    /// the outcome and the span show the code and its meaning only.
    func testAJSONRPCErrorMessageThatEchoesTheRequestIsNotShown() async throws {
        let server = try Self.faults.get()
        var target = Target(name: "faults", url: server.baseURL + "/jsonrpc-error-echo",
                            kind: .mcp(MCPOptions(transport: .streamableHTTP)), timeout: .seconds(5))
        target.headers = [HTTPHeader("X-Api-Key", "echoed-api-key-4711")]
        let (report, spans, _) = await ProbeHarness().run(StreamableHTTPProbe(), target)
        XCTAssertEqual(report.outcome.health, .degraded, report.outcome.message)
        XCTAssertEqual(report.outcome.errorType, .jsonRPCError)
        XCTAssertEqual(report.outcome.message, "initialize rejected: JSON-RPC -32602 (invalid params)")
        for span in spans {
            XCTAssertFalse("\(span)".contains("echoed-api-key-4711"), "span \(span.name) quotes the server's message")
        }
    }

    /// Answers that broke a limit or a protocol rule: unhealthy with a precise error.type, recorded
    /// when the answer arrives (an SSE answer for another id used to wait for the timeout).
    func testAnswersBreakingALimitOrAProtocolRuleAreUnhealthy() async throws {
        let server = try Self.faults.get()
        let table: [(String, String, UInt)] = [
            ("/many-headers", "response_too_large", #line),
            ("/huge-header-line", "response_too_large", #line),
            ("/malformed/status-line", "invalid_http", #line),
            ("/malformed/not-http", "invalid_http", #line),
            ("/malformed/bad-length", "invalid_http", #line),
            ("/jsonrpc-wrong-id", "jsonrpc_id_mismatch", #line),
            ("/sse-wrong-id", "jsonrpc_id_mismatch", #line),
        ]
        for (path, errorType, line) in table {
            let target = Target(name: "faults", url: server.baseURL + path, kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                                timeout: .seconds(10))
            let (report, _, elapsed) = await ProbeHarness().run(StreamableHTTPProbe(), target)
            XCTAssertEqual(report.outcome.health, .unhealthy, "\(path): \(report.outcome.message)", line: line)
            XCTAssertEqual(report.outcome.errorType?.rawValue, errorType, "\(path): \(report.outcome.message)", line: line)
            XCTAssertLessThan(elapsed, .seconds(5), path, line: line)
        }
    }
}
