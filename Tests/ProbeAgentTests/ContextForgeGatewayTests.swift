import Foundation
import Synchronization
import TestSupport
import XCTest

/// The daemon against the real ContextForge gateway (issue 15 item 5): discovery of the gateways
/// registered with it, its own `/mcp` probed without a token, a restart read from the admin-only
/// `/version`, a rejected discovery token (signing key rotated) and a revoked one (`DELETE /tokens/{id}`,
/// then a new token by SIGHUP). One gateway (and one registered MCP server) for the
/// whole class: ContextForge takes tens of seconds to start.
final class ContextForgeGatewayTests: XCTestCase {
    struct Setup: Sendable {
        let gateway: RealContextForge
        /// An official-SDK MCP server registered with the gateway as "Peer Echo".
        let peer: FixtureServer
        let peerID: String
    }

    private static let shared = Mutex<Result<Setup, Error>?>(nil)
    /// The name discovery gives the registered peer (`contextforge-` + its slug).
    static let peerTarget = "contextforge-peer-echo"

    static func setup() async throws -> Setup {
        try RealContextForge.requireInstalled()
        if let done = shared.withLock({ $0 }) { return try done.get() }
        let result: Result<Setup, Error>
        do {
            let peer = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
            let gateway = try RealContextForge()
            try await gateway.start()
            let id = try await gateway.register(name: "Peer Echo", url: peer.baseURL + "/mcp", token: try gateway.mintAdminToken())
            result = .success(Setup(gateway: gateway, peer: peer, peerID: id))
        } catch {
            result = .failure(error)  // the other tests of the class fail at once, not after another long start
        }
        shared.withLock { $0 = result }
        return try result.get()
    }

    override class func tearDown() {
        shared.withLock {
            if case .success(let setup)? = $0 {
                setup.gateway.stop()
                setup.peer.stop()
            }
            $0 = nil
        }
        super.tearDown()
    }

    /// Discovery finds the peer registered with the gateway (`GET /gateways`) and probes it; the
    /// gateway's own `/mcp`, probed without a token, answers 401 with a Bearer challenge: `alive`.
    func testDiscoveryFindsTheRegisteredPeerAndTheGatewayIsAliveWithoutAToken() async throws {
        let setup = try await Self.setup()
        let gateway = setup.gateway
        let token = try gateway.mintAdminToken()
        let agent = try RunningAgent(config: try Self.discoveryConfig(gateway, token: token) + """

            targets:
              - name: gateway
                url: \(gateway.baseURL)/mcp
            """)
        try await agent.waitFor("the peer found and up, the gateway alive", timeout: 30) {
            let status = (try? await agent.status()) ?? [:]
            return status[Self.peerTarget]?["state"] as? String == "up" && status["gateway"]?["state"] as? String == "up"
        }
        let status = try await agent.status()
        let peer = try XCTUnwrap(status[Self.peerTarget])
        XCTAssertEqual(peer["labels"] as? [String: String], ["source": "contextforge", "gateway_id": setup.peerID])
        XCTAssertEqual((peer["last_result"] as? [String: Any])?["health_status"] as? String, "healthy", "\(peer)")
        let gatewayResult = try XCTUnwrap(status["gateway"]?["last_result"] as? [String: Any])
        XCTAssertEqual(gatewayResult["health_status"] as? String, "alive", "\(gatewayResult)")
        XCTAssertEqual(gatewayResult["http_status_code"] as? Int, 401)

        let discovery = await DiscoveryHealthDaemonTests.discovery(agent)
        XCTAssertEqual(discovery["targets"] as? Int, 1, "\(discovery)")
        XCTAssertEqual(discovery["consecutive_failures"] as? Int, 0)
        let metrics = try await agent.get("/metrics").1
        XCTAssertEqual(sample(metrics, "probe_agent_discovery_success", labels: [:]), 1, metrics)
        XCTAssertEqual(sample(metrics, "probe_agent_discovery_targets", labels: [:]), 1)
        XCTAssertEqual(sample(metrics, "probe_success", labels: ["target": "gateway"]), 1, "alive counts as success")
        XCTAssertFalse(agent.log.contains(token), "the token never shows in the log")
    }

    /// The recipe of docs/operations.md: the gateway's `/mcp` probed without a token, its restart
    /// read from `/version` `uptime_seconds` with an admin JWT. A restart far shorter than
    /// failure_threshold × interval (the target never goes `down`) is a `target.restart` event on
    /// the first probe after the gateway is back, within one interval, and `probe.target.restarts` 1;
    /// the status page marks it on the timeline of the peer discovered through the gateway.
    func testARestartShorterThanTheFailureThresholdIsATargetRestart() async throws {
        let setup = try await Self.setup()
        let gateway = setup.gateway
        let adminToken = try gateway.mintAdminToken()
        let spans = ProbeSpanFile()
        let interval = 2.0
        let agent = try RunningAgent(config: """
            admin:
              listen: {admin}
            log_level: info
            defaults: {interval: 2s, timeout: 2s, failure_threshold: 60}
            exporter:
              file: \(spans.path)
            discovery:
              contextforge:
                url: \(gateway.baseURL)
                token_file: \(try gateway.file(adminToken))
                interval: 1s
            targets:
              - name: gateway
                url: \(gateway.baseURL)/mcp
                restart_detection:
                  - json_field: uptime_seconds
                    url: \(gateway.baseURL)/version
                    mode: decreases
                    auth: {type: bearer, token_file: \(try gateway.file(adminToken))}
            """, environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        try await agent.waitFor("2 alive probes that read the uptime", timeout: 30) {
            spans.successfulProbes(of: "gateway").filter { $0.events("target.restart_signal.unread").isEmpty }.count >= 2
        }
        try await agent.waitFor("the discovered peer probed", timeout: 30) {
            (try? await agent.status())?[Self.peerTarget]?["state"] as? String == "up"
        }
        // A restart shows as a lower uptime only when the gateway has lived longer than it takes to start.
        let deadline = Date().addingTimeInterval(120)
        while try await gateway.uptime(token: adminToken) < gateway.lastStartDuration + 5, Date() < deadline {
            try await Task.sleep(for: .seconds(1))
        }

        let restartedAt = unixNanosNow()
        gateway.stop()
        try await gateway.start()
        let backAt = unixNanosNow()
        try await agent.waitFor("a target.restart event", timeout: 20) {
            spans.probes(of: "gateway").contains { !$0.events("target.restart").isEmpty }
        }

        let probes = spans.probes(of: "gateway")
        let restarts = probes.filter { !$0.events("target.restart").isEmpty }
        XCTAssertEqual(restarts.count, 1, "one restart event")
        let restart = try XCTUnwrap(restarts.first)
        XCTAssertGreaterThan(restart.startNanos, restartedAt)
        let lateBy = Double(Int64(restart.startNanos) - Int64(backAt)) / 1e9
        print("ContextForge restart: down for \(Double(backAt - restartedAt) / 1e9) s (failure_threshold × interval = 120 s), "
              + "target.restart on the probe that started \(lateBy) s after /health answered again")
        XCTAssertLessThan(lateBy, interval + 1.5, "the first probe after the gateway is back (\(lateBy) s after) sees the restart")
        XCTAssertEqual(restart.attributes["health.status"] as? String, "alive")
        let evidence = restart.events("target.restart").first?["evidence"] as? String ?? ""
        XCTAssertTrue(evidence.hasPrefix("json uptime_seconds went down from"), evidence)
        let outage = probes.filter { $0.startNanos > restartedAt && $0.startNanos < backAt }
        XCTAssertTrue(outage.contains { $0.attributes["error.type"] as? String == "connection_refused" },
                      "the gateway was seen unreachable while it restarted")
        XCTAssertTrue(probes.allSatisfy { $0.events("health.state_change").allSatisfy { $0["to"] as? String != "down" } },
                      "a restart shorter than failure_threshold never makes the target down")
        let state = try await agent.status()["gateway"]?["state"] as? String
        XCTAssertEqual(state, "up")

        let counted = await eventually(timeout: 5) {
            sample((try? await agent.get("/metrics").1) ?? "", "probe_target_restarts_total", labels: ["target": "gateway"]) == 1
        }
        XCTAssertTrue(counted, "probe_target_restarts_total{target=\"gateway\"} is 1")
        try await agent.waitForLog("target restarted: json uptime_seconds went down from")
        // The status page marks the gateway's restart on the timeline of the target found through it.
        let (_, peerPage) = try await agent.get("/targets/\(Self.peerTarget)")
        XCTAssertTrue(peerPage.contains("data-event=\"gateway_restart\""), "the peer's timeline shows the gateway restart")
        let (_, index) = try await agent.get("/")
        XCTAssertEqual(index.components(separatedBy: "data-gateway-restart=").count - 1, 1,
                       "one gateway-restart mark, on the peer's strip")
        let spanText = (try? String(contentsOfFile: spans.path, encoding: .utf8)) ?? ""
        XCTAssertFalse(agent.log.contains(adminToken) || spanText.contains(adminToken), "the admin token never shows")
    }

    /// A discovery token the gateway stops accepting (its signing key rotated) is in `/status`, on
    /// `/metrics` and in the log, while the peer found before keeps being probed; once the gateway
    /// accepts the token again, the recovery is visible too.
    func testARejectedDiscoveryTokenAndTheRecoveryAreVisible() async throws {
        let setup = try await Self.setup()
        let gateway = setup.gateway
        let key = gateway.jwtSecret
        let token = try gateway.mintAdminToken()
        let agent = try RunningAgent(config: try Self.discoveryConfig(gateway, token: token))
        try await agent.waitFor("the peer found and up", timeout: 30) {
            (try? await agent.status())?[Self.peerTarget]?["state"] as? String == "up"
        }

        gateway.stop()
        try await gateway.start(jwtSecret: RealContextForge.randomSecret())
        try await agent.waitFor("the token rejected in /status", timeout: 30) {
            (await DiscoveryHealthDaemonTests.discovery(agent)["last_error"] as? String)?.contains("HTTP 401: the token was rejected") == true
        }
        let failing = await DiscoveryHealthDaemonTests.discovery(agent)
        XCTAssertGreaterThanOrEqual(failing["consecutive_failures"] as? Int ?? 0, 1, "\(failing)")
        XCTAssertNotNil(failing["last_success"], "the success before the rotation is kept")
        let metrics = try await agent.get("/metrics").1
        XCTAssertEqual(sample(metrics, "probe_agent_discovery_success", labels: [:]), 0, metrics)
        try await agent.waitForLog("discovery failed, keeping the last good list (1 targets)")
        let probedAt = try await Self.lastResultTime(of: Self.peerTarget, agent)
        try await agent.waitFor("the peer probed while discovery fails", timeout: 10) {
            (try? await Self.lastResultTime(of: Self.peerTarget, agent)).map { $0 != probedAt } ?? false
        }
        let peerState = try await agent.status()[Self.peerTarget]?["state"] as? String
        XCTAssertEqual(peerState, "up", "the peer found before stays a target")

        gateway.stop()
        try await gateway.start(jwtSecret: key)
        try await agent.waitFor("discovery recovered in /status", timeout: 30) {
            await DiscoveryHealthDaemonTests.discovery(agent)["consecutive_failures"] as? Int == 0
        }
        let recovered = await DiscoveryHealthDaemonTests.discovery(agent)
        XCTAssertEqual(recovered["targets"] as? Int, 1, "\(recovered)")
        let after = try await agent.get("/metrics").1
        XCTAssertEqual(sample(after, "probe_agent_discovery_success", labels: [:]), 1, after)
        XCTAssertEqual(sample(after, "probe_agent_discovery_targets", labels: [:]), 1)
        try await agent.waitForLog("discovery recovered: 1 targets found")
        let (_, statusBody) = try await agent.get("/status")
        XCTAssertFalse(statusBody.contains(token) || agent.log.contains(token), "the token never shows")
    }

    /// A discovery API token revoked at the gateway (`DELETE /tokens/{id}`) is seen at the next poll
    /// (`/status`, `/metrics`), the peer found before keeps being probed, and a new token given by
    /// SIGHUP brings discovery back.
    func testARevokedDiscoveryTokenAndANewOneBySIGHUP() async throws {
        let setup = try await Self.setup()
        let gateway = setup.gateway
        let admin = try gateway.mintAdminToken()
        func apiToken() async throws -> (id: String, token: String) {
            let (status, body) = try await gateway.api("POST", "/tokens", token: admin,
                                                       json: #"{"name":"discovery-\#(UUID().uuidString)","expires_in_days":1}"#)
            let created = body as? [String: Any]
            guard status == 201, let token = created?["access_token"] as? String,
                  let id = (created?["token"] as? [String: Any])?["id"] as? String else {
                throw FixtureError("POST /tokens answered \(status): \(String(describing: body))")
            }
            return (id, token)
        }
        let first = try await apiToken()
        let agent = try RunningAgent(config: try Self.discoveryConfig(gateway, token: first.token))
        try await agent.waitFor("the peer found and up", timeout: 30) {
            (try? await agent.status())?[Self.peerTarget]?["state"] as? String == "up"
        }

        let (revoked, _) = try await gateway.api("DELETE", "/tokens/\(first.id)", token: admin)
        XCTAssertEqual(revoked, 204)
        try await agent.waitFor("the revoked token in /status", timeout: 30) {
            (await DiscoveryHealthDaemonTests.discovery(agent)["last_error"] as? String)?.contains("HTTP 401") == true
        }
        let metrics = try await agent.get("/metrics").1
        XCTAssertEqual(sample(metrics, "probe_agent_discovery_success", labels: [:]), 0, metrics)
        let peerState = try await agent.status()[Self.peerTarget]?["state"] as? String
        XCTAssertEqual(peerState, "up", "the peer found before stays a target")

        let second = try await apiToken()
        try agent.rewriteConfig(try Self.discoveryConfig(gateway, token: second.token))
        agent.signal(SIGHUP)
        try await agent.waitForLog("config reloaded: changed discovery")
        try await agent.waitFor("discovery recovered in /status", timeout: 30) {
            await DiscoveryHealthDaemonTests.discovery(agent)["consecutive_failures"] as? Int == 0
        }
        let after = try await agent.get("/metrics").1
        XCTAssertEqual(sample(after, "probe_agent_discovery_success", labels: [:]), 1, after)
        XCTAssertEqual(sample(after, "probe_agent_discovery_targets", labels: [:]), 1)
        let (_, statusBody) = try await agent.get("/status")
        for token in [first.token, second.token, admin] {
            XCTAssertFalse(statusBody.contains(token) || agent.log.contains(token), "a token never shows")
        }
    }

    /// Discovery from `gateway` with `token` (in a file), polling every second; probes every 2 s.
    static func discoveryConfig(_ gateway: RealContextForge, token: String) throws -> String {
        """
        admin:
          listen: {admin}
        log_level: info
        defaults: {interval: 2s, timeout: 2s}
        discovery:
          contextforge:
            url: \(gateway.baseURL)
            token_file: \(try gateway.file(token))
            interval: 1s
        """
    }

    static func lastResultTime(of target: String, _ agent: RunningAgent) async throws -> String {
        let status = try await agent.status()
        return try XCTUnwrap((status[target]?["last_result"] as? [String: Any])?["time"] as? String)
    }
}
