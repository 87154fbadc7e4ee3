import HTTPClient
import XCTest
@testable import ProbeLogic

final class ClassifierTests: XCTestCase {
    func testEveryTransportErrorKindIsClassified() {
        let table: [(HTTPClientError.Kind, HealthStatus, ProbeErrorType)] = [
            (.timeout, .unreachable, .timeout),
            (.dns, .unreachable, .dns),
            (.connectionRefused, .unreachable, .connectionRefused),
            (.connectionReset, .unreachable, .connectionReset),
            (.emptyReply, .unreachable, .connectionReset),
            (.receiveFailed, .unreachable, .connectionReset),
            (.sendFailed, .unreachable, .connectionReset),
            (.tls, .unreachable, .tls),
            (.certificateInvalid, .unreachable, .certificateInvalid),
            (.responseTooLarge, .unhealthy, .responseTooLarge),
            (.responseHeadersTooLarge, .unhealthy, .responseTooLarge),
            (.invalidHTTP, .unhealthy, .invalidHTTP),
            (.tooManyRedirects, .unhealthy, .redirect),
            (.malformedURL, .unhealthy, .other),
            (.cancelled, .unreachable, .timeout),
            (.other, .unreachable, .other),
        ]
        let kinds: [HTTPClientError.Kind] = [.timeout, .dns, .connectionRefused, .connectionReset, .emptyReply,
                                             .receiveFailed, .sendFailed, .tls, .certificateInvalid, .responseTooLarge,
                                             .responseHeadersTooLarge, .invalidHTTP, .tooManyRedirects, .malformedURL, .cancelled, .other]
        XCTAssertEqual(Set(table.map { $0.0.rawValue }), Set(kinds.map(\.rawValue)), "table covers every kind")
        for (kind, health, errorType) in table {
            let outcome = Classifier.transportError(kind)
            XCTAssertEqual(outcome.health, health, "\(kind)")
            XCTAssertEqual(outcome.errorType, errorType, "\(kind)")
            XCTAssertFalse(outcome.message.isEmpty)
        }
    }

    func testInitializeAnswers() {
        let facts = MCPServerFacts(protocolVersion: "2025-11-25", serverName: "s", serverVersion: "1", capabilities: [])
        let bearer401 = #"Bearer error="invalid_token", resource_metadata="http://x/.well-known/oauth-protected-resource/mcp""#
        let scope403 = #"Bearer error="insufficient_scope", error_description="Required scope: mcp:read""#
        typealias Row = (InitializeExchange, HealthStatus, ProbeErrorType?, NextStep, line: UInt)
        let table: [Row] = [
            (.init(status: 200, reply: .initializeResult(facts)), .healthy, nil, .done, #line),
            (.init(status: 202, reply: .initializeResult(facts)), .healthy, nil, .done, #line),
            (.init(status: 200, reply: .invalidResult("x")), .unhealthy, .invalidResponse, .done, #line),
            (.init(status: 200, reply: .notJSONRPC), .unhealthy, .invalidResponse, .done, #line),
            (.init(status: 200, reply: .idMismatch), .unhealthy, .jsonRPCIDMismatch, .done, #line),
            (.init(status: 200, reply: nil), .unhealthy, .invalidResponse, .done, #line),
            (.init(status: 200, reply: .error(code: -32602)), .degraded, .jsonRPCError, .tryModernDiscover, #line),
            (.init(status: 200, reply: .error(code: -32603)), .degraded, .jsonRPCError, .done, #line),
            (.init(status: 200, reply: .error(code: -32022)), .degraded, .jsonRPCError, .tryModernDiscover, #line),
            (.init(status: 307), .unhealthy, .redirect, .done, #line),
            (.init(status: 401, wwwAuthenticate: bearer401), .alive, nil, .done, #line),
            (.init(status: 401, wwwAuthenticate: bearer401, credentialsSent: true), .degraded, .authRejected, .done, #line),
            (.init(status: 403), .alive, nil, .done, #line),
            (.init(status: 403, wwwAuthenticate: scope403, credentialsSent: true), .degraded, .authRejected, .done, #line),
            (.init(status: 400), .unhealthy, .http4xx, .tryLegacySSE, #line),
            (.init(status: 404), .unhealthy, .http4xx, .tryLegacySSE, #line),
            (.init(status: 405), .unhealthy, .http4xx, .tryLegacySSE, #line),
            (.init(status: 400, reply: .error(code: -32600)), .degraded, .jsonRPCError, .tryModernDiscover, #line),
            (.init(status: 400, reply: .error(code: -32602)), .degraded, .jsonRPCError, .tryModernDiscover, #line),
            (.init(status: 404, reply: .error(code: -32601)), .degraded, .jsonRPCError, .tryModernDiscover, #line),
            (.init(status: 400, reply: .error(code: -32000)), .degraded, .jsonRPCError, .done, #line),
            (.init(status: 400, reply: .error(code: -32020)), .degraded, .jsonRPCError, .tryModernDiscover, #line),
            (.init(status: 400, reply: .error(code: -32021)), .degraded, .jsonRPCError, .tryModernDiscover, #line),
            (.init(status: 406), .degraded, .http4xx, .done, #line),
            (.init(status: 415), .degraded, .http4xx, .done, #line),
            (.init(status: 421), .degraded, .http4xx, .done, #line),
            (.init(status: 429), .degraded, .http4xx, .done, #line),
            (.init(status: 503, bodyPreview: "Too many open sessions"), .degraded, .http5xx, .done, #line),
            (.init(status: 503), .unhealthy, .http5xx, .done, #line),
            (.init(status: 500), .unhealthy, .http5xx, .done, #line),
            (.init(status: 502), .unhealthy, .http5xx, .done, #line),
            (.init(status: 418), .unhealthy, .http4xx, .done, #line),
            (.init(status: 100), .unhealthy, .http4xx, .done, #line),
        ]
        for (exchange, health, errorType, next, line) in table {
            let (outcome, step) = Classifier.initialize(exchange)
            XCTAssertEqual(outcome.health, health, line: line)
            XCTAssertEqual(outcome.errorType, errorType, line: line)
            XCTAssertEqual(step, next, line: line)
            if health != .healthy { XCTAssertFalse(outcome.message.isEmpty, line: line) }
        }
    }

    func testSuccessMeansHealthyOrAlive() {
        XCTAssertEqual(HealthStatus.allCases.filter(\.isSuccess), [.healthy, .alive])
    }
}
