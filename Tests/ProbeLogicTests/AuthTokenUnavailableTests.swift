import Foundation
import HTTPClient
@testable import ProbeLogic
import TestSupport
import Tracing
import XCTest

/// Credentials that the config asks for but cannot be obtained are a finding (issue 12, item 5):
/// real token endpoint failures against real targets, on every prober.
final class AuthTokenUnavailableTests: XCTestCase {
    static let secrets = ["cc-secret-value", "good-token"]
    let tracing = AuthTracing()

    func run(_ target: Target, _ store: OAuthCredentialStore) async throws -> (ProbeRun, SpanData, [SpanData]) {
        let runner = ProbeRunner(client: HTTPClient.shared, tracer: tracing.tracer, clientVersion: "test", credentials: store)
        let run = await runner.run(target)
        let spans = await tracing.spans().filter { $0.context.traceID == run.traceID }
        return (run, try XCTUnwrap(spans.first { $0.name == "probe" }), spans)
    }

    func clientCredentials(_ tokenURL: String) -> AuthConfig {
        .clientCredentials(ClientCredentials(tokenURL: tokenURL, clientID: "probe-client", clientSecret: Secret("cc-secret-value")))
    }

    /// The token endpoint failing in each way the issue measured: the target (which answers 401
    /// without a token) is degraded, with the reason on the root span, and never healthy or alive.
    func testEachTokenEndpointFailureDegradesAStreamableHTTPTarget() async throws {
        let server = try mcpPeer("auth", self)
        let peer = try await OAuthPeer()
        let closed = "http://127.0.0.1:\(try freeLoopbackPort())/token"
        let cases: [(fail: String?, tokenURL: String, reason: String)] = [
            (nil, closed, "connection_refused"),
            ("http_500", peer.tokenURL, "http_500"),
            ("server_error", peer.tokenURL, "server_error"),
            ("invalid_client", peer.tokenURL, "invalid_client"),
            ("no_access_token", peer.tokenURL, "no_access_token"),
            ("garbage", peer.tokenURL, "invalid_json"),
        ]
        for (fail, tokenURL, reason) in cases {
            try await peer.configure(["fail": fail])
            let target = Target(name: "cc-\(reason)", url: server.baseURL + "/mcp",
                                kind: .mcp(MCPOptions(transport: .streamableHTTP)), auth: clientCredentials(tokenURL))
            let (run, root, spans) = try await run(target, OAuthCredentialStore(http: tracing.http))
            XCTAssertEqual(run.report.outcome.health, .degraded, "\(reason): \(run.report.outcome.message)")
            XCTAssertEqual(root.attributes["health.status"], "degraded", reason)
            XCTAssertEqual(root.attributes["auth.status"], "token_unavailable", reason)
            XCTAssertEqual(root.attributes["auth.reason"]?.stringValue, reason)
            XCTAssertEqual(root.attributes["error.type"], "token_unavailable", reason)
            XCTAssertEqual(root.attributes["http.response.status_code"], .int(401), "the target was still probed")
            XCTAssertEqual(root.status.code, .error, reason)
            assertNoSecrets(Self.secrets, spans: spans, texts: [run.report.outcome.message])
            XCTAssertFalse(root.attributes.contains { $0.value.stringValue?.contains("internal error") == true },
                           "the token endpoint's body is never recorded")
        }
    }

    func testLegacySSEAndPlainHTTPTargetsAreDegradedToo() async throws {
        let legacy = try mcpPeer("legacy-sse", self)
        let peer = try await OAuthPeer(["fail": "invalid_client"])
        let targets = [
            Target(name: "sse", url: legacy.baseURL + "/sse", kind: .mcp(MCPOptions(transport: .sse)),
                   auth: clientCredentials(peer.tokenURL)),
            Target(name: "http", url: peer.server.baseURL + "/protected", kind: .http(HTTPCheck()),
                   auth: clientCredentials(peer.tokenURL)),
        ]
        for target in targets {
            let (run, root, spans) = try await run(target, OAuthCredentialStore(http: tracing.http))
            XCTAssertEqual(run.report.outcome.health, .degraded, "\(target.name): \(run.report.outcome.message)")
            XCTAssertEqual(root.attributes["auth.status"], "token_unavailable", target.name)
            XCTAssertEqual(root.attributes["auth.reason"], "invalid_client", target.name)
            assertNoSecrets(Self.secrets, spans: spans)
        }
    }

    /// `on_token_failure: liveness`: the seed's verdict (401 → alive), but the span still says why.
    func testLivenessPolicyKeepsTheSeedsVerdictAndStillReportsTheFailure() async throws {
        let server = try mcpPeer("auth", self)
        let peer = try await OAuthPeer(["fail": "invalid_client"])
        let target = Target(name: "cc", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                            auth: .clientCredentials(ClientCredentials(tokenURL: peer.tokenURL, clientID: "probe-client",
                                                                       clientSecret: Secret("cc-secret-value"),
                                                                       onTokenFailure: .liveness)))
        let (run, root, _) = try await run(target, OAuthCredentialStore(http: tracing.http))
        XCTAssertEqual(run.report.outcome.health, .alive, run.report.outcome.message)
        XCTAssertEqual(root.attributes["health.probe_type"], "unauthenticated_liveness")
        XCTAssertEqual(root.attributes["auth.status"], "token_unavailable")
        XCTAssertEqual(root.attributes["auth.reason"], "invalid_client")
        XCTAssertEqual(root.status.code, .ok)
    }

    /// The verdict table: only a target that answered well is turned into `degraded`.
    func testPolicyTable() {
        for health in HealthStatus.allCases {
            for policy in [TokenFailurePolicy?.none, .degraded, .liveness] {
                var report = ProbeReport(outcome: Outcome(health), probeType: .unauthenticatedLiveness)
                report.token = .unavailable(reason: "http_500")
                report.applyTokenFailurePolicy(policy)
                let expected = health.isSuccess && policy != .liveness ? HealthStatus.degraded : health
                XCTAssertEqual(report.outcome.health, expected, "\(health) \(String(describing: policy))")
                if expected != health { XCTAssertEqual(report.outcome.errorType, .tokenUnavailable) }

                var fine = ProbeReport(outcome: Outcome(health), probeType: .authenticated)
                fine.token = .obtained
                fine.applyTokenFailurePolicy(policy)
                XCTAssertEqual(fine.outcome.health, health)
            }
        }
    }

    /// A target that is down stays down: the token failure does not hide the outage.
    func testUnreachableTargetKeepsItsVerdict() async throws {
        let peer = try await OAuthPeer(["fail": "invalid_client"])
        let target = Target(name: "down", url: "http://127.0.0.1:\(try freeLoopbackPort())/mcp",
                            kind: .mcp(MCPOptions(transport: .streamableHTTP)), auth: clientCredentials(peer.tokenURL))
        let (run, root, _) = try await run(target, OAuthCredentialStore(http: tracing.http))
        XCTAssertEqual(run.report.outcome.health, .unreachable)
        XCTAssertEqual(root.attributes["auth.status"], "token_unavailable")
        XCTAssertEqual(root.attributes["auth.reason"], "invalid_client")
    }

    func testRecoveryWhenTheTokenEndpointComesBack() async throws {
        let server = try mcpPeer("auth", self)
        let peer = try await OAuthPeer(["fail": "http_500"])
        let store = OAuthCredentialStore(http: tracing.http)
        let target = Target(name: "cc", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                            auth: clientCredentials(peer.tokenURL))
        let (failing, _, _) = try await run(target, store)
        XCTAssertEqual(failing.report.outcome.health, .degraded)
        try await peer.configure(["fail": nil])
        let (recovered, root, _) = try await run(target, store)
        XCTAssertEqual(recovered.report.outcome.health, .healthy, recovered.report.outcome.message)
        XCTAssertNil(root.attributes["auth.status"])
        XCTAssertEqual(root.attributes["health.probe_type"], "authenticated")
    }

    /// authorization_code without a stored token stays the seed's rule: alive, not a finding.
    func testAuthorizationCodeWithoutStoredTokenIsStillAlive() async throws {
        let server = try mcpPeer("auth", self)
        let target = Target(name: "ac", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                            auth: .authorizationCode(StoredToken(tokenFile: "/nonexistent/probe.token")))
        let (run, root, _) = try await run(target, OAuthCredentialStore(http: tracing.http))
        XCTAssertEqual(run.report.outcome.health, .alive)
        XCTAssertEqual(root.attributes["auth.status"], "required")
        XCTAssertEqual(root.attributes["health.probe_type"], "unauthenticated_liveness")
    }

    /// A stored token that expired, whose refresh the token endpoint refuses, is a finding as well.
    func testFailingRefreshOfAStoredTokenDegradesTheTarget() async throws {
        let server = try mcpPeer("auth", self)
        let peer = try await OAuthPeer(["fail": "invalid_grant"])
        let dir = try temporaryDirectory(self)
        let path = dir.appendingPathComponent("ac.token").path
        try JSONSerialization.data(withJSONObject: ["access_token": "expired-Zk4", "refresh_token": "refresh-1",
                                                    "expires_at": Date().timeIntervalSince1970 - 60])
            .write(to: URL(fileURLWithPath: path))
        let target = Target(name: "ac", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                            auth: .authorizationCode(StoredToken(tokenFile: path, tokenURL: peer.tokenURL, clientID: "probe-client",
                                                                 clientSecret: Secret("cc-secret-value"))))
        let store = OAuthCredentialStore(http: tracing.http)
        for _ in 0..<2 {  // the refresh request, then the remembered dead refresh token
            let (run, root, spans) = try await run(target, store)
            XCTAssertEqual(run.report.outcome.health, .degraded, run.report.outcome.message)
            XCTAssertEqual(root.attributes["auth.status"], "token_unavailable")
            XCTAssertEqual(root.attributes["auth.reason"], "invalid_grant")
            assertNoSecrets(Self.secrets + ["expired-Zk4", "refresh-1"], spans: spans)
        }
    }
}
