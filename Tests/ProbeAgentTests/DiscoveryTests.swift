import Foundation
import HTTPClient
import ProbeLogic
import Synchronization
import TestSupport
import Tracing
import XCTest
@testable import ProbeAgent

final class DiscoveryMappingTests: XCTestCase {
    private let defaults = TargetDefaults(interval: .seconds(45), timeout: .seconds(7), failureThreshold: 4, successThreshold: 2,
                                          failingInterval: .seconds(15))

    private func decode(_ json: String) throws -> [ContextForgeGateway] {
        try JSONDecoder().decode(GatewayPage.self, from: Data(json.utf8)).gateways
    }

    func testMappingTable() throws {
        struct Row {
            var json: String
            var name: String?  // nil: no target
            var transport: MCPTransport = .auto
            var auth: AuthConfig = .none
        }
        let table: [Row] = [
            Row(json: #"{"id":"a1","name":"Payments MCP","slug":"payments-mcp","url":"https://p.example.com/mcp","transport":"STREAMABLEHTTP","enabled":true}"#,
                name: "contextforge-payments-mcp", transport: .streamableHTTP),
            Row(json: #"{"id":"b2","name":"Search","slug":"search","url":"http://10.0.0.5:9000/sse","transport":"SSE","enabled":true,"authType":"bearer","authToken":"*****"}"#,
                name: "contextforge-search", transport: .sse),
            Row(json: #"{"id":"c3","name":"CRM","slug":"crm","url":"https://crm.example.com/mcp","transport":"STREAMABLEHTTP","enabled":true,"authType":"oauth","oauthConfig":{"grant_type":"authorization_code","client_secret":"*****"}}"#,
                name: "contextforge-crm", transport: .streamableHTTP, auth: .authorizationCode(StoredToken())),
            Row(json: #"{"id":"c4","name":"CRM2","url":"https://crm.example.com/mcp","enabled":true,"authType":"OAUTH","oauthConfig":{"grantType":"authorization_code"}}"#,
                name: "contextforge-CRM2", auth: .authorizationCode(StoredToken())),
            Row(json: #"{"id":"c5","name":"Billing","slug":"billing","url":"https://b.example.com/mcp","enabled":true,"authType":"oauth","oauthConfig":{"grant_type":"client_credentials"}}"#,
                name: "contextforge-billing"),
            Row(json: #"{"id":"c6","name":"Keyed","slug":"keyed","url":"https://k.example.com/mcp","enabled":true,"authType":"oauth","oauthConfig":null}"#,
                name: "contextforge-keyed"),
            Row(json: #"{"id":"d1","name":"My Gateway (prod)/eu","url":"https://g.example.com/mcp","transport":"websocket","enabled":true}"#,
                name: "contextforge-My-Gateway--prod--eu"),
            Row(json: #"{"id":"d2","name":"über","slug":"","url":"https://g.example.com/mcp","transport":"streamablehttp","enabled":true}"#,
                name: "contextforge--ber", transport: .streamableHTTP),
            Row(json: #"{"id":"e1","name":"ftp","url":"ftp://files.example.com","enabled":true}"#, name: nil),
            Row(json: #"{"id":"e2","name":"rel","url":"/mcp","enabled":true}"#, name: nil),
        ]
        for row in table {
            let gateway = try XCTUnwrap(try decode("[\(row.json)]").first, row.json)
            let spec = ContextForgeMapping.targetSpec(gateway, defaults: defaults)
            guard let name = row.name else {
                XCTAssertNil(spec, row.json)
                continue
            }
            let expected = TargetSpec(
                target: Target(name: name, url: gateway.url, kind: .mcp(MCPOptions(transport: row.transport)),
                               timeout: .seconds(7), auth: row.auth, policy: HealthPolicy(failureThreshold: 4, successThreshold: 2),
                               labels: ["source": "contextforge", "gateway_id": gateway.id]),
                interval: .seconds(45), failingInterval: .seconds(15))
            XCTAssertEqual(spec, expected, row.json)
        }
    }

    /// Discovered targets take `defaults:` as configured targets do: with no timeout set, the
    /// timeout is the interval when that is shorter than 10s.
    func testDiscoveredTargetsFitTheTimeoutToTheInterval() throws {
        let config = try ConfigFixture.parse("""
            defaults: {interval: 1s}
            discovery: {contextforge: {url: "https://gw.example.com", token: t}}
            """)
        let gateway = try XCTUnwrap(try decode(#"[{"id":"a1","name":"A","slug":"a","url":"https://a.example.com/mcp","enabled":true}]"#).first)
        let spec = try XCTUnwrap(ContextForgeMapping.targetSpec(gateway, defaults: config.defaults))
        XCTAssertEqual(spec.target.timeout, .seconds(1))
        XCTAssertEqual(spec.interval, .seconds(1))
    }

    func testDisabledGatewaysAreSkippedUnlessInactiveAreIncluded() throws {
        let gateways = try decode("""
            [{"id":"1","name":"on","url":"http://a/mcp","enabled":true},
             {"id":"2","name":"off","url":"http://b/mcp","enabled":false},
             {"id":"3","name":"unknown","url":"http://c/mcp"}]
            """)
        let active = ContextForgeMapping.targetSpecs(gateways, includeInactive: false, defaults: defaults)
        XCTAssertEqual(active.map(\.target.name), ["contextforge-on"])
        let all = ContextForgeMapping.targetSpecs(gateways, includeInactive: true, defaults: defaults)
        XCTAssertEqual(all.map(\.target.name), ["contextforge-off", "contextforge-on", "contextforge-unknown"])
    }

    func testCollidingNamesGetTheGatewayID() throws {
        let gateways = try decode("""
            [{"id":"x/1","name":"a b","url":"http://a/mcp","enabled":true},
             {"id":"x2","name":"a.b","slug":"a-b","url":"http://b/mcp","enabled":true}]
            """)
        let names = ContextForgeMapping.targetSpecs(gateways, includeInactive: false, defaults: defaults).map(\.target.name)
        XCTAssertEqual(names, ["contextforge-a-b", "contextforge-a-b-x2"])
    }

    func testPageForms() throws {
        let object = try JSONDecoder().decode(GatewayPage.self, from: Data("""
            {"gateways":[{"id":7,"name":"n","url":"http://a/mcp","enabled":true},{"broken":true}],"nextCursor":"abc"}
            """.utf8))
        XCTAssertEqual(object.gateways.map(\.id), ["7"])
        XCTAssertEqual(object.nextCursor, "abc")
        let items = try JSONDecoder().decode(GatewayPage.self, from: Data(#"{"items":[{"id":"i","name":"n","url":"http://a/mcp","enabled":true}]}"#.utf8))
        XCTAssertEqual(items.gateways.map(\.id), ["i"])
        XCTAssertNil(items.nextCursor)
        XCTAssertThrowsError(try JSONDecoder().decode(GatewayPage.self, from: Data(#"{"detail":"x"}"#.utf8)))
    }

    func testPageURL() {
        var settings = ContextForgeDiscovery(url: "https://gw.example.com/", token: Secret("t"))
        let discoverer = ContextForgeDiscoverer(settings: settings, client: .shared, defaults: defaults)
        XCTAssertEqual(discoverer.pageURL(cursor: nil), "https://gw.example.com/gateways?include_inactive=false&include_pagination=true")
        settings.includeInactive = true
        XCTAssertEqual(ContextForgeDiscoverer(settings: settings, client: .shared, defaults: defaults).pageURL(cursor: "a+b/c="),
                       "https://gw.example.com/gateways?include_inactive=true&include_pagination=true&cursor=a%2Bb%2Fc%3D")
    }
}

final class DiscoveryFetchTests: XCTestCase {
    private let token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXN1Yg.sig-4242"
    private let expectedActive = ["contextforge-billing-tools", "contextforge-crm-oauth", "contextforge-legacy-search",
                                  "contextforge-payments-mcp"]

    private func stub(_ extra: [String] = []) throws -> FixtureServer {
        try FixtureServer(script: "contextforge_stub.py", args: ["{port}", "--token", token] + extra)
    }

    private func discoverer(_ server: FixtureServer, token: String? = nil, includeInactive: Bool = false) -> ContextForgeDiscoverer {
        ContextForgeDiscoverer(settings: ContextForgeDiscovery(url: server.baseURL, token: Secret(token ?? self.token),
                                                               includeInactive: includeInactive),
                               client: .shared, defaults: TargetDefaults())
    }

    private func requests(_ server: FixtureServer) async throws -> [[String: String]] {
        let body = try await HTTPClient.shared.execute(HTTPRequest(url: server.baseURL + "/requests")).body
        return try JSONDecoder().decode([[String: String]].self, from: Data(body))
    }

    func testFetchPlainArray() async throws {
        let server = try stub(["--mode", "legacy"])
        let specs = try await discoverer(server).fetch()
        XCTAssertEqual(specs.map(\.target.name), expectedActive)
        let crm = try XCTUnwrap(specs.first { $0.target.name == "contextforge-crm-oauth" })
        XCTAssertEqual(crm.target.auth, .authorizationCode(StoredToken()))
        XCTAssertEqual(crm.target.labels, ["source": "contextforge", "gateway_id": "c3"])
        let search = try XCTUnwrap(specs.first { $0.target.name == "contextforge-legacy-search" })
        XCTAssertEqual(search.target.kind, .mcp(MCPOptions(transport: .sse)))
        XCTAssertEqual(search.target.auth, .none)
        let seen = try await requests(server)
        XCTAssertEqual(seen.map { $0["accept"] }, ["application/json"])
    }

    func testFetchFollowsCursors() async throws {
        let server = try stub(["--page-size", "2"])
        let specs = try await discoverer(server).fetch()
        XCTAssertEqual(specs.map(\.target.name), expectedActive)
        let paths = try await requests(server).compactMap { $0["path"] }
        XCTAssertEqual(paths, ["/gateways?include_inactive=false&include_pagination=true",
                               "/gateways?include_inactive=false&include_pagination=true&cursor=2"])
    }

    func testIncludeInactiveIsSentAndHonoured() async throws {
        let server = try stub(["--page-size", "3"])
        let specs = try await discoverer(server, includeInactive: true).fetch()
        XCTAssertEqual(specs.map(\.target.name), (expectedActive + ["contextforge-retired"]).sorted())
        let paths = try await requests(server).compactMap { $0["path"] }
        XCTAssertEqual(paths.first, "/gateways?include_inactive=true&include_pagination=true")
    }

    func testWrongTokenIsAClearErrorWithoutTheToken() async throws {
        let server = try stub()
        let wrong = "wrong-token-0123456789"
        do {
            _ = try await discoverer(server, token: wrong).fetch()
            XCTFail("fetch succeeded with a wrong token")
        } catch {
            let message = error.description
            XCTAssertEqual(message, "ContextForge \(server.baseURL): HTTP 401: the token was rejected "
                + "(discovery.contextforge.token needs the gateways.read permission)")
            XCTAssertFalse(message.contains(wrong))
            XCTAssertFalse(message.contains(token))
        }
    }

    func testNonJSONAnswer() async throws {
        let server = try stub(["--mode", "html"])
        do {
            _ = try await discoverer(server).fetch()
            XCTFail("fetch accepted HTML")
        } catch {
            XCTAssertEqual(error.description, "ContextForge \(server.baseURL): the answer is not a JSON gateway list (Content-Type text/html)")
        }
    }

    func testTimeout() async throws {
        let server = try stub(["--mode", "slow"])
        var discoverer = discoverer(server)
        discoverer.timeout = .milliseconds(300)
        do {
            _ = try await discoverer.fetch()
            XCTFail("fetch did not time out")
        } catch {
            XCTAssertEqual(error.description, "ContextForge \(server.baseURL): no answer within 300ms")
        }
    }

    func testUnreachableGateway() async throws {
        let port = try freeLoopbackPort()
        let discoverer = ContextForgeDiscoverer(
            settings: ContextForgeDiscovery(url: "http://127.0.0.1:\(port)", token: Secret(token)), client: .shared, defaults: TargetDefaults())
        do {
            _ = try await discoverer.fetch()
            XCTFail("fetch succeeded against a closed port")
        } catch {
            XCTAssertTrue(error.description.hasPrefix("ContextForge http://127.0.0.1:\(port): connection_refused"), error.description)
        }
    }
}

final class DiscoveryLoopTests: XCTestCase {
    private static func spec(_ name: String) -> TargetSpec {
        TargetSpec(target: Target(name: name, url: "http://127.0.0.1:9/mcp"), interval: .seconds(30), failingInterval: nil)
    }

    private final class Recorder: Sendable {
        let updates = Mutex<[[String]]>([])
        let logs = Mutex<[String]>([])
        let warnings = Mutex<[String]>([])
        let polls = Atomic<Int>(0)
    }

    private struct Down: Error, CustomStringConvertible {
        var description: String { "ContextForge http://gw: HTTP 503" }
    }

    func testKeepsTheLastGoodListWhenAPollFails() async throws {
        let recorder = Recorder()
        // Poll results in order: a list, a failure, the same list, a new list, then failures.
        let script: [[String]?] = [["contextforge-a", "static-1"], nil, ["contextforge-a", "static-1"], ["contextforge-b"]]
        let registry = MetricsRegistry(scope: .test)
        let health = DiscoveryHealth(source: "http://user:pw@gw/", registry: registry)
        let loop = DiscoveryLoop(
            interval: .milliseconds(20), staticTargets: [Self.spec("static-1")],
            source: {
                let n = recorder.polls.add(1, ordering: .relaxed).oldValue
                guard n < script.count, let names = script[n] else { throw Down() }
                return names.map(Self.spec)
            },
            log: { line in recorder.logs.withLock { $0.append(line) } },
            warn: { line in recorder.warnings.withLock { $0.append(line) } }, health: health,
            update: { specs in recorder.updates.withLock { $0.append(specs.map(\.target.name)) } })
        let task = Task { await loop.run() }
        while recorder.polls.load(ordering: .relaxed) < 6 { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        await task.value

        XCTAssertEqual(recorder.updates.withLock { $0 }, [["static-1", "contextforge-a"], ["static-1", "contextforge-b"]])
        let logs = recorder.logs.withLock { $0 }
        XCTAssertTrue(logs.contains("discovery: skipped static-1: a configured target has the same name"), "\(logs)")
        // Each failure, and the recovery after one, is a warning; the health says where it stands.
        let warnings = recorder.warnings.withLock { $0 }
        XCTAssertEqual(warnings.first, "discovery failed, keeping the last good list (2 targets): ContextForge http://gw: HTTP 503")
        XCTAssertEqual(warnings.dropFirst().first, "discovery recovered: 2 targets found")
        XCTAssertTrue(warnings.dropFirst(2).allSatisfy { $0.hasPrefix("discovery failed") }, "\(warnings)")
        let status = health.statusObject()
        XCTAssertEqual(status["source"] as? String, "http://REDACTED:REDACTED@gw/")
        XCTAssertEqual(status["targets"] as? Int, 1, "the last good poll found contextforge-b")
        XCTAssertGreaterThanOrEqual(status["consecutive_failures"] as? Int ?? 0, 2)
        XCTAssertEqual(status["last_error"] as? String, "ContextForge http://gw: HTTP 503")
        XCTAssertNotNil(status["last_success"])
        let success = registry.collect().first { $0.name == "probe_agent.discovery.success" }
        guard case .gauge(let points)? = success?.points else { return XCTFail("no probe_agent.discovery.success") }
        XCTAssertEqual(points.first?.value, .int(0))
    }

    func testFirstFailureDeliversTheConfiguredTargets() async {
        let recorder = Recorder()
        let loop = DiscoveryLoop(interval: .seconds(60), staticTargets: [Self.spec("static-1")], source: { throw Down() },
                                 log: { line in recorder.logs.withLock { $0.append(line) } },
                                 warn: { line in recorder.logs.withLock { $0.append(line) } },
                                 update: { specs in recorder.updates.withLock { $0.append(specs.map(\.target.name)) } })
        let delivered = await loop.poll(after: nil)
        XCTAssertEqual(delivered?.map(\.target.name), ["static-1"])
        XCTAssertEqual(recorder.updates.withLock { $0 }, [["static-1"]])
        XCTAssertEqual(recorder.logs.withLock { $0 }, ["discovery failed, probing the configured targets only: ContextForge http://gw: HTTP 503"])
    }

    func testAgainstTheStub() async throws {
        let token = "stub-token-77"
        let server = try FixtureServer(script: "contextforge_stub.py", args: ["{port}", "--token", token, "--page-size", "2"])
        let discoverer = ContextForgeDiscoverer(settings: ContextForgeDiscovery(url: server.baseURL, token: Secret(token)),
                                                client: .shared, defaults: TargetDefaults())
        let recorder = Recorder()
        let loop = DiscoveryLoop(discoverer: discoverer, staticTargets: [], log: { _ in }, warn: { _ in }, health: nil,
                                 update: { specs in recorder.updates.withLock { $0.append(specs.map(\.target.name)) } })
        let delivered = await loop.poll(after: nil)
        XCTAssertEqual(delivered?.count, 4)
        server.stop()
        let kept = await loop.poll(after: delivered)
        XCTAssertEqual(kept, delivered)
        XCTAssertEqual(recorder.updates.withLock { $0.count }, 1)
    }
}

/// Discovery's health as an operator sees it in the running daemon: a rejected token is in
/// `/status`, on `/metrics` and in the log; the recovery is too.
final class DiscoveryHealthDaemonTests: XCTestCase {
    func testRejectedTokenAndRecoveryAreVisible() async throws {
        var gateway = try FixtureServer(script: "contextforge_stub.py", args: ["{port}", "--token", "revoked-long-ago"])
        defer { gateway.stop() }
        let agent = try RunningAgent(config: """
            admin:
              listen: {admin}
            log_level: info
            defaults: {interval: 1s, timeout: 800ms}
            discovery:
              contextforge:
                url: \(gateway.baseURL)
                token: the-agents-token
                interval: 1s
            """)

        try await agent.waitFor("discovery failing in /status") { await Self.discovery(agent)["last_error"] != nil }
        let failing = await Self.discovery(agent)
        XCTAssertTrue((failing["last_error"] as? String)?.contains("the token was rejected") == true, "\(failing)")
        XCTAssertNil(failing["last_success"])
        XCTAssertGreaterThanOrEqual(failing["consecutive_failures"] as? Int ?? 0, 1)
        XCTAssertFalse("\(failing)".contains("the-agents-token"), "the token never shows")
        let metrics = try await agent.get("/metrics").1
        XCTAssertTrue(metrics.contains("probe_agent_discovery_success 0"), metrics)
        try await agent.waitForLog("discovery failed, probing the configured targets only")

        gateway = try gateway.restarted(args: ["{port}", "--token", "the-agents-token"])
        try await agent.waitFor("discovery recovered in /status") { await Self.discovery(agent)["consecutive_failures"] as? Int == 0 }
        let recovered = await Self.discovery(agent)
        XCTAssertEqual(recovered["targets"] as? Int, 4, "the stub's active gateways")
        XCTAssertNotNil(recovered["last_success"])
        let after = try await agent.get("/metrics").1
        XCTAssertTrue(after.contains("probe_agent_discovery_success 1"), after)
        XCTAssertTrue(after.contains("probe_agent_discovery_targets 4"), after)
        try await agent.waitForLog("discovery recovered: 4 targets found")
    }

    static func discovery(_ agent: RunningAgent) async -> [String: Any] {
        (try? await agent.statusDocument())?["discovery"] as? [String: Any] ?? [:]
    }
}
