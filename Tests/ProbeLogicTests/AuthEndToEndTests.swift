import Foundation
import HTTPClient
import ProbeLogic
import TestSupport
import Tracing
import XCTest

/// The credential store under a real probe of the MCP test peer protected by bearer auth.
final class AuthEndToEndTests: XCTestCase {
    let tracing = AuthTracing()

    func run(_ target: Target, _ store: OAuthCredentialStore) async -> (ProbeRun, [SpanData]) {
        let runner = ProbeRunner(client: HTTPClient.shared, tracer: tracing.tracer, clientVersion: "test", credentials: store)
        let run = await runner.run(target)
        return (run, await tracing.spans().filter { $0.context.traceID == run.traceID })
    }

    func testNoStoredTokenProbesAsUnauthenticatedLiveness() async throws {
        let server = try mcpPeer("auth", self)
        let store = OAuthCredentialStore(http: tracing.http)
        let target = Target(name: "ac", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                            auth: .authorizationCode(StoredToken(tokenFile: "/nonexistent/probe.token")))
        let (run, spans) = await run(target, store)
        XCTAssertEqual(run.report.probeType, .unauthenticatedLiveness)
        XCTAssertEqual(run.report.httpStatus, 401)
        XCTAssertEqual(run.report.outcome.health, .alive, run.report.outcome.message)
        let root = try XCTUnwrap(spans.first { $0.name == "probe" })
        XCTAssertEqual(root.attributes["health.probe_type"], "unauthenticated_liveness")
    }

    func testClientCredentialsTokenAuthenticatesTheProbe() async throws {
        let server = try mcpPeer("auth", self)
        let peer = try await OAuthPeer(["access_token": "good-token"])
        let store = OAuthCredentialStore(http: tracing.http)
        let target = Target(name: "cc", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                            auth: .clientCredentials(ClientCredentials(tokenURL: peer.tokenURL, clientID: "probe-client",
                                                                       clientSecret: Secret("cc-secret-value"))))
        let (run, spans) = await run(target, store)
        XCTAssertEqual(run.report.probeType, .authenticated)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        // The token request is part of the probe's trace.
        let root = try XCTUnwrap(spans.first { $0.name == "probe" })
        let token = try XCTUnwrap(spans.first { $0.attributes["url.full"]?.stringValue == peer.tokenURL })
        XCTAssertEqual(token.parentSpanID, root.context.spanID)
        assertNoSecrets(["good-token", "cc-secret-value"], spans: spans)
    }

    func testRejectedTokenIsReplacedOnTheNextProbe() async throws {
        let server = try mcpPeer("auth", self)
        let peer = try await OAuthPeer(["access_token": "stale-token"])
        let store = OAuthCredentialStore(http: tracing.http)
        let target = Target(name: "cc", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)),
                            auth: .clientCredentials(ClientCredentials(tokenURL: peer.tokenURL, clientID: "probe-client",
                                                                       clientSecret: Secret("cc-secret-value"))))
        let (first, _) = await run(target, store)
        XCTAssertEqual(first.report.httpStatus, 401)
        try await peer.configure(["access_token": "good-token"])
        let (second, _) = await run(target, store)
        XCTAssertEqual(second.report.outcome.health, .healthy, second.report.outcome.message)
        let fetched = try await peer.count("client_credentials")
        XCTAssertEqual(fetched, 2)
    }
}
