import Foundation
import HTTPClient
import ProbeLogic
import TestSupport
import Tracing
import XCTest

/// The OAuth rules of the seed PR against the official SDK's bearer-protected server (2.x and 1.x):
/// no token → 401 → alive; good token → healthy; weak token → 403 → degraded; rejected → degraded.
final class OAuthProtectedServerTests: XCTestCase {
    func testEveryCredentialCaseOnBothSDKMajors() async throws {
        for major in [2, 1] {
            let server = try FixtureServer(script: "mcp_server.py", args: ["auth", "{port}"], mcpMajor: major)
            let url = server.baseURL + "/mcp"
            typealias Row = (auth: AuthConfig, health: HealthStatus, probeType: String, authStatus: String?, errorType: ProbeErrorType?)
            let table: [Row] = [
                (.none, .alive, "anonymous", "required", nil),
                (.authorizationCode(StoredToken(tokenEnv: "PROBE_AGENT_TEST_UNSET_TOKEN")), .alive, "unauthenticated_liveness", "required", nil),
                (.bearer(token: Secret("good-token")), .healthy, "authenticated", nil, nil),
                (.bearer(token: Secret("weak-token")), .degraded, "authenticated", "insufficient_scope", .authRejected),
                (.bearer(token: Secret("revoked-token")), .degraded, "authenticated", "rejected", .authRejected),
            ]
            for row in table {
                let harness = ProbeHarness(oauth: true)
                let (run, spans) = await harness.run(Target(name: "oauth", url: url, auth: row.auth))
                let label = "mcp \(major).x, \(row.probeType), expected \(row.health)"
                XCTAssertEqual(run.report.outcome.health, row.health, "\(label): \(run.report.outcome.message)")
                XCTAssertEqual(run.report.outcome.errorType, row.errorType, label)
                let root = try XCTUnwrap(spans.first { $0.name == "probe" }, label)
                XCTAssertEqual(root.attributes["health.probe_type"]?.stringValue, row.probeType, label)
                XCTAssertEqual(root.attributes["auth.status"]?.stringValue, row.authStatus, label)
                XCTAssertEqual(root.status.code, row.health.isSuccess ? .ok : .error, label)
                if row.authStatus == "required" {
                    // The SDK's challenge names its PRM, whose resource is the probed URL: valid on 2.x.
                    let challenge = root.attributes["auth.challenge"]?.stringValue
                    XCTAssertNotNil(challenge, label)
                    if major == 2 { XCTAssertEqual(challenge, "valid", label) }
                    let client = try XCTUnwrap(spans.first { $0.kind == .client && $0.name == "POST" }, label)
                    XCTAssertEqual(client.status.code, .error, "the CLIENT span records the 401 as HTTP conventions say")
                }
                let exported = spans.map { "\($0)" }.joined()
                for secret in ["good-token", "weak-token", "revoked-token"] {
                    XCTAssertFalse(exported.contains(secret), "\(label): span leaks \(secret)")
                    XCTAssertFalse(run.report.outcome.message.contains(secret), label)
                }
            }
            let open = try await openSessions(server)
            XCTAssertEqual(open, 0, "mcp \(major).x")
        }
    }
}
