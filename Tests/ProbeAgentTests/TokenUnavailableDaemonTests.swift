import Foundation
import HTTPClient
import TestSupport
import XCTest

/// The daemon with a client_credentials target whose token endpoint fails and comes back
/// (issue 12, item 5): metrics, `/status` and one log line per change of token availability.
/// The MCP peer that wants a bearer token and the OAuth peer that issues it, killed at the end of `test`.
func startTokenPeers(_ test: XCTestCase) throws -> (mcp: FixtureServer, oauth: FixtureServer) {
    let mcp = try FixtureServer(script: "mcp_server.py", args: ["auth", "{port}"])
    let oauth = try FixtureServer(script: "oauth_server.py")
    test.addTeardownBlock {
        for server in [mcp, oauth] where server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) }
        mcp.stop()
        oauth.stop()
    }
    return (mcp, oauth)
}

/// Makes the OAuth peer's token endpoint fail in mode `fail` (nil: answer normally).
func configureTokenEndpoint(_ oauth: FixtureServer, fail: String?) async throws {
    var request = HTTPRequest(method: "POST", url: oauth.baseURL + "/_test/config",
                              body: Array(try JSONSerialization.data(withJSONObject: ["fail": fail.map { $0 as Any } ?? NSNull()])))
    request.headers.add("Content-Type", "application/json")
    let status = try await HTTPClient.shared.execute(request).status
    XCTAssertEqual(status, 200)
}

final class TokenUnavailableDaemonTests: XCTestCase {

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
        let (mcp, oauth) = try startTokenPeers(self)
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
        let (mcp, oauth) = try startTokenPeers(self)
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

/// `probe-agent check` with a client_credentials grant shows the token failure (text and JSON).
final class TokenUnavailableCheckTests: XCTestCase {
    func testCheckShowsTheTokenFailure() async throws {
        let peers = try startTokenPeers(self)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let secretFile = dir.appendingPathComponent("secret").path
        try "cc-secret-value\n".write(toFile: secretFile, atomically: true, encoding: .utf8)
        let oauth = ["--oauth-token-url", peers.oauth.baseURL + "/token", "--oauth-client-id", "probe-client",
                     "--oauth-client-secret-file", secretFile]
        let url = peers.mcp.baseURL + "/mcp"

        try await configureTokenEndpoint(peers.oauth, fail: "invalid_client")
        let json = try AgentBinary.run(["check", url, "--transport", "streamable_http", "--json"] + oauth)
        XCTAssertEqual(json.status, 1, json.stdout + json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["health_status"] as? String, "degraded")
        XCTAssertEqual(object["error_type"] as? String, "token_unavailable")
        XCTAssertEqual(object["auth_status"] as? String, "token_unavailable")
        XCTAssertEqual(object["auth_reason"] as? String, "invalid_client")
        let text = try AgentBinary.run(["check", url, "--transport", "streamable_http"] + oauth)
        XCTAssertTrue(text.stdout.contains("token_unavailable (invalid_client)"), text.stdout)
        let liveness = try AgentBinary.run(["check", url, "--transport", "streamable_http", "--json", "--spans",
                                            "--on-token-failure", "liveness"] + oauth)
        XCTAssertEqual(liveness.status, 0, liveness.stdout + liveness.stderr)
        XCTAssertTrue(liveness.stdout.contains("\"health_status\":\"alive\""), liveness.stdout)
        XCTAssertTrue(liveness.stdout.contains("\"auth_status\":\"token_unavailable\""), liveness.stdout)
        for output in [json, text, liveness] {
            XCTAssertFalse((output.stdout + output.stderr).contains("cc-secret-value"), "the client secret is never printed")
        }

        try await configureTokenEndpoint(peers.oauth, fail: nil)
        let healthy = try AgentBinary.run(["check", url, "--transport", "streamable_http", "--json"] + oauth)
        XCTAssertEqual(healthy.status, 0, healthy.stdout + healthy.stderr)
        XCTAssertTrue(healthy.stdout.contains("\"health_status\":\"healthy\""), healthy.stdout)
        XCTAssertFalse(healthy.stdout.contains("auth_status"), healthy.stdout)

        let usage = try AgentBinary.run(["check", url, "--oauth-token-url", peers.oauth.baseURL + "/token"])
        XCTAssertEqual(usage.status, 2, usage.stderr)
    }
}
