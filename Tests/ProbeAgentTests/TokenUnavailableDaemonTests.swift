import Foundation
import HTTPClient
import TestSupport
import XCTest

/// The daemon with a client_credentials target whose token endpoint fails and comes back
/// (issue 12, item 5): metrics, `/status` and one log line per change of token availability.
final class TokenUnavailableDaemonTests: XCTestCase {
    func startPeers() throws -> (mcp: FixtureServer, oauth: FixtureServer) {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["auth", "{port}"])
        let oauth = try FixtureServer(script: "oauth_server.py")
        addTeardownBlock {
            for server in [mcp, oauth] where server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) }
            mcp.stop()
            oauth.stop()
        }
        return (mcp, oauth)
    }

    func configureTokenEndpoint(_ oauth: FixtureServer, fail: String?) async throws {
        var request = HTTPRequest(method: "POST", url: oauth.baseURL + "/_test/config",
                                  body: Array(try JSONSerialization.data(withJSONObject: ["fail": fail.map { $0 as Any } ?? NSNull()])))
        request.headers.add("Content-Type", "application/json")
        let status = try await HTTPClient.shared.execute(request).status
        XCTAssertEqual(status, 200)
    }

    func agentConfig(_ mcp: FixtureServer, _ oauth: FixtureServer, extraAuth: String = "") -> String {
        """
        admin:
          listen: {admin}
        log_level: info
        defaults:
          interval: 500ms
          timeout: 450ms
          failure_threshold: 1
        targets:
          - name: cc
            url: \(mcp.baseURL)/mcp
            transport: streamable_http
            auth:
              type: client_credentials
              token_url: \(oauth.baseURL)/token
              client_id: probe-client
              client_secret: cc-secret-value
        \(extraAuth)
        """
    }

    func testFailingTokenEndpointIsAFindingLoggedOncePerChange() async throws {
        let (mcp, oauth) = try startPeers()
        try await configureTokenEndpoint(oauth, fail: "invalid_client")
        let agent = try RunningAgent(config: agentConfig(mcp, oauth))

        try await agent.waitFor("the cc target to be degraded") {
            (try? await agent.status()["cc"]?["state"] as? String) == "degraded"
        }
        // Several probes with the endpoint still failing: still one warning.
        try await agent.waitFor("four failing probes") {
            let metrics = (try? await agent.get("/metrics").1) ?? ""
            return (sample(metrics, "probe_consecutive_failures", labels: ["target": "cc"]) ?? 0) >= 4
        }
        var metrics = try await agent.get("/metrics").1
        XCTAssertEqual(sample(metrics, "probe_success", labels: ["target": "cc"]), 0)
        XCTAssertEqual(sample(metrics, "probe_auth_token_unavailable", labels: ["target": "cc"]), 1, metrics)
        XCTAssertEqual(sample(metrics, "probe_health_status", labels: ["target": "cc", "status": "degraded"]), 1)
        let last = try await agent.status()["cc"]?["last_result"] as? [String: Any]
        XCTAssertEqual(last?["error_type"] as? String, "token_unavailable")
        XCTAssertEqual(occurrences(of: "OAuth token unavailable", in: agent.log), 1, agent.log)
        XCTAssertTrue(agent.log.contains("invalid_client"), agent.log)

        // The token endpoint comes back: healthy, the gauge drops to 0, one recovery line.
        try await configureTokenEndpoint(oauth, fail: nil)
        try await agent.waitFor("recovery") { (try? await agent.status()["cc"]?["state"] as? String) == "up" }
        try await Task.sleep(for: .seconds(1))  // a few more probes: no more lines
        metrics = try await agent.get("/metrics").1
        XCTAssertEqual(sample(metrics, "probe_success", labels: ["target": "cc"]), 1)
        XCTAssertEqual(sample(metrics, "probe_auth_token_unavailable", labels: ["target": "cc"]), 0, metrics)
        XCTAssertEqual(occurrences(of: "OAuth token unavailable", in: agent.log), 1, agent.log)
        XCTAssertEqual(occurrences(of: "OAuth token available again", in: agent.log), 1, agent.log)
        XCTAssertFalse(agent.log.contains("cc-secret-value"), "the client secret is never logged")
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), agent.log)
    }

    func testLivenessPolicyKeepsTheTargetAliveButStillReportsIt() async throws {
        let (mcp, oauth) = try startPeers()
        try await configureTokenEndpoint(oauth, fail: "http_500")
        let agent = try RunningAgent(config: agentConfig(mcp, oauth, extraAuth: "      on_token_failure: liveness"))
        try await agent.waitFor("the cc target to be up") { (try? await agent.status()["cc"]?["state"] as? String) == "up" }
        let metrics = try await agent.get("/metrics").1
        XCTAssertEqual(sample(metrics, "probe_success", labels: ["target": "cc", "probe_type": "unauthenticated_liveness"]), 1)
        XCTAssertEqual(sample(metrics, "probe_auth_token_unavailable", labels: ["target": "cc"]), 1, metrics)
        let last = try await agent.status()["cc"]?["last_result"] as? [String: Any]
        XCTAssertEqual(last?["health_status"] as? String, "alive")
        try await agent.waitFor("the warning") { agent.log.contains("OAuth token unavailable") }
        XCTAssertTrue(agent.log.contains("http_500"), agent.log)
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), agent.log)
    }

    func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }
}
