import Foundation
import HTTPClient
import TestSupport
import XCTest
@testable import ProbeLogic

/// `json_fields`, `header_matches`, `body_matches` and `body_not_matches` judge the main answer of
/// every MCP era and transport, as they judge an `http` target's response: real servers (the
/// official SDK's StreamableHTTP and legacy SSE, the 2026-era stand-in), each started with an
/// instance id it sends as `X-Instance-Id`.
final class AnswerChecksTests: XCTestCase {
    struct Kind {
        let name: String
        let script: String
        let args: [String]
        let path: String
        let transport: MCPTransport
        /// A JSON field of the main answer and its value.
        let field: (path: String, value: String)
    }

    static let kinds = [
        Kind(name: "streamable_http", script: "mcp_server.py", args: ["json"], path: "/mcp", transport: .streamableHTTP,
             field: ("result.serverInfo.name", "probe-test")),
        Kind(name: "streamable_http (SSE answer)", script: "mcp_server.py", args: ["sse"], path: "/mcp", transport: .streamableHTTP,
             field: ("result.serverInfo.name", "probe-test")),
        Kind(name: "2026 era", script: "mcp_modern_stub.py", args: [], path: "/mcp", transport: .streamableHTTP,
             field: ("result.supportedVersions.0", "2026-07-28")),
        Kind(name: "legacy SSE", script: "mcp_server.py", args: ["legacy-sse"], path: "/sse", transport: .sse,
             field: ("result.serverInfo.name", "probe-test")),
    ]

    func testAnswerChecksJudgeTheMainAnswerOfEveryEraAndTransport() async throws {
        for kind in Self.kinds {
            let server = try FixtureServer(script: kind.script, args: kind.args + ["{port}", "--instance", "i-7"])
            defer { server.stop() }
            func probe(_ expect: AnswerChecks) async -> ProbeReport {
                let target = Target(name: "checked", url: server.baseURL + kind.path,
                                    kind: .mcp(MCPOptions(transport: kind.transport, expect: expect)), timeout: .seconds(10))
                return await ProbeHarness().run(target).0.report
            }
            let passing = AnswerChecks(
                bodyMatches: [try RegularExpression(#""result""#)], bodyNotMatches: [try RegularExpression("(?i)traceback")],
                jsonFields: [JSONFieldAssertion(path: kind.field.path, equals: kind.field.value)],
                headerMatches: [HeaderAssertion(name: "x-instance-id", regex: try RegularExpression("^i-7$"))])
            let healthy = await probe(passing)
            XCTAssertEqual(healthy.outcome.health, .healthy, "\(kind.name): \(healthy.outcome.message)")

            let wrongField = await probe(AnswerChecks(jsonFields: [JSONFieldAssertion(path: kind.field.path, equals: "nope")]))
            XCTAssertEqual(wrongField.outcome.health, .unhealthy, kind.name)
            XCTAssertEqual(wrongField.outcome.errorType, .assertionFailed, kind.name)
            XCTAssertEqual(wrongField.outcome.message, "json field \(kind.field.path): expected nope", kind.name)

            let wrongHeader = await probe(AnswerChecks(headerMatches: [HeaderAssertion(name: "X-Instance-Id", regex: try RegularExpression("^i-8$"))]))
            XCTAssertEqual(wrongHeader.outcome.errorType, .assertionFailed, kind.name)
            XCTAssertEqual(wrongHeader.outcome.message, "header X-Instance-Id does not match", kind.name)

            let forbidden = await probe(AnswerChecks(bodyNotMatches: [try RegularExpression("protocolVersion|supportedVersions")]))
            XCTAssertEqual(forbidden.outcome.message, "body matches body_not_matches[0]", kind.name)
        }
    }

    /// A check is no reason to call an unreachable or unauthorised target anything else.
    func testChecksApplyOnlyToAHealthyAnswer() async throws {
        let target = Target(name: "down", url: "http://127.0.0.1:\(try freeLoopbackPort())/mcp",
                            kind: .mcp(MCPOptions(expect: AnswerChecks(jsonFields: [JSONFieldAssertion(path: "a", equals: "b")]))),
                            timeout: .seconds(2))
        let report = await ProbeHarness().run(target).0.report
        XCTAssertEqual(report.outcome.errorType, .connectionRefused)
    }
}
