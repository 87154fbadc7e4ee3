import Foundation
import HTTPClient
import TestSupport
import XCTest
@testable import ProbeAgent

/// SIGHUP applies every section in place (docs/operations.md, "Reloading the config"), tried
/// against the real daemon.
final class ReloadDaemonTests: XCTestCase {
    static let reloadTimestamp = "probe_agent_config_reload_last_success_timestamp_seconds"

    func metric(_ agent: RunningAgent, _ name: String) async -> Double? {
        guard let (_, body) = try? await agent.get("/metrics") else { return nil }
        return sample(body, name, labels: [:])
    }

    /// log_level, scheduler.max_concurrency and targets in one reload: a debug line appears after
    /// it, the log line names each changed section and no value, the timestamp moves on.
    func testLogLevelAndTheChangeListLine() async throws {
        let server = try FixtureServer(script: "http_server.py", args: ["{port}"])
        func config(level: String, concurrency: Int, targets: String) -> String {
            """
            admin: {listen: "{admin}"}
            log_level: \(level)
            scheduler: {max_concurrency: \(concurrency)}
            defaults: {interval: 300ms, timeout: 250ms}
            targets:
            \(targets)
            """
        }
        func target(_ name: String, token: String, interval: String = "300ms") -> String {
            "  - {name: \(name), kind: http, url: \"\(server.baseURL)/status/200\", interval: \(interval), auth: {type: bearer, token: \(token)}}"
        }
        let before = [target("kept", token: "s3cret-kept"), target("changed", token: "s3cret-old"),
                      target("removed", token: "s3cret-gone")].joined(separator: "\n")
        let agent = try RunningAgent(config: config(level: "info", concurrency: 64, targets: before))
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        let startStamp = await metric(agent, Self.reloadTimestamp)
        try await Task.sleep(for: .seconds(1))
        XCTAssertFalse(agent.log.contains("probe finished"), "info logs no line per probe")

        let after = [target("kept", token: "s3cret-kept"), target("changed", token: "s3cret-new"),
                     target("added", token: "s3cret-added")].joined(separator: "\n")
        try agent.rewriteConfig(config(level: "debug", concurrency: 8, targets: after))
        agent.signal(SIGHUP)
        try await agent.waitForLog("probe finished")
        try await agent.waitForLog("config reloaded: changed log_level, scheduler.max_concurrency, targets (+1 -1 ~1)")
        XCTAssertFalse(agent.log.contains("s3cret"), "no value in the log")
        let started = try XCTUnwrap(startStamp, "the start counts as a load")
        XCTAssertEqual(started, Date().timeIntervalSince1970, accuracy: 60)
        let reloadStamp = await metric(agent, Self.reloadTimestamp)
        let reloaded = try XCTUnwrap(reloadStamp)
        XCTAssertGreaterThan(reloaded, started)
        let success = await metric(agent, "probe_agent_config_reload_success")
        XCTAssertEqual(success, 1)

        // The same file again: nothing changed, and the line says so.
        agent.signal(SIGHUP)
        try await agent.waitForLog("config reloaded: no changes")
    }

    /// `--log-level` wins over the file, on reload too.
    func testTheLogLevelFlagWinsOverAReload() async throws {
        let server = try FixtureServer(script: "http_server.py", args: ["{port}"])
        func config(_ level: String) -> String {
            """
            admin: {listen: "{admin}"}
            log_level: \(level)
            targets:
              - {name: api, kind: http, url: "\(server.baseURL)/status/200", interval: 300ms, timeout: 250ms}
            """
        }
        let agent = try RunningAgent(config: config("info"), arguments: ["--log-level", "info"])
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        try agent.rewriteConfig(config("debug"))
        agent.signal(SIGHUP)
        try await agent.waitForLog("config reloaded: changed log_level (--log-level wins)")
        try await Task.sleep(for: .seconds(1))
        XCTAssertFalse(agent.log.contains("probe finished"), agent.log)
    }

    /// admin.listen: the new address answers and the old one closes; an address already taken
    /// keeps the old listener, says so and counts as a failed reload until a later SIGHUP works.
    func testAdminListenerMovesAndAPortTakenKeepsTheOldOne() async throws {
        func config(_ listen: String) -> String {
            "admin: {listen: \"\(listen)\"}\ntargets:\n  - {name: closed, kind: http, url: \"http://127.0.0.1:9/\", interval: 5s}\n"
        }
        let agent = try RunningAgent(config: config("{admin}"))
        try await agent.waitFor("the admin endpoints") { (try? await agent.get("/healthz").0) == 200 }
        let firstPort = try XCTUnwrap(Int(agent.adminURL.split(separator: ":").last ?? ""))
        let secondPort = try freeLoopbackPort()

        try agent.rewriteConfig(config("127.0.0.1:\(secondPort)"))
        agent.signal(SIGHUP)
        try await agent.waitFor("the new admin port") { await Self.healthz(secondPort) == 200 }
        try await agent.waitFor("the old admin port to close") { !loopbackPortAccepts(firstPort) }
        try await agent.waitForLog("config reloaded: changed admin.listen")
        let moved = await Self.metrics(secondPort)
        XCTAssertEqual(sample(moved, "probe_agent_config_reload_success", labels: [:]), 1)
        let movedAt = try XCTUnwrap(sample(moved, Self.reloadTimestamp, labels: [:]))

        // A port something else listens on: the agent keeps the one it has.
        let squatter = try FixtureServer(script: "http_server.py", args: ["{port}"])
        try agent.rewriteConfig(config("127.0.0.1:\(squatter.port)"))
        agent.signal(SIGHUP)
        try await agent.waitForLog("address already in use; the admin endpoints stay on 127.0.0.1:\(secondPort)")
        try await agent.waitForLog("config reloaded: changed admin.listen (not applied: kept 127.0.0.1:\(secondPort))")
        let kept = await Self.metrics(secondPort)
        XCTAssertEqual(sample(kept, "probe_agent_config_reload_success", labels: [:]), 0, "the file is not what runs")
        XCTAssertEqual(sample(kept, Self.reloadTimestamp, labels: [:]), movedAt, "no success to stamp")
        XCTAssertTrue(agent.process.isRunning)

        // Once the port is free, the next SIGHUP moves the listener.
        squatter.stop()
        agent.signal(SIGHUP)
        try await agent.waitFor("the freed admin port") { await Self.healthz(squatter.port) == 200 }
        let after = await Self.metrics(squatter.port)
        XCTAssertEqual(sample(after, "probe_agent_config_reload_success", labels: [:]), 1)
        XCTAssertFalse(loopbackPortAccepts(secondPort))
    }

    /// A broken file keeps everything, the admin listener included, and stamps no success.
    func testABrokenFileKeepsEverything() async throws {
        let server = try FixtureServer(script: "http_server.py", args: ["{port}"])
        let agent = try RunningAgent(config: """
            admin: {listen: "{admin}"}
            targets:
              - {name: api, kind: http, url: "\(server.baseURL)/status/200", interval: 300ms, timeout: 250ms}
            """)
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        let stamp = await metric(agent, Self.reloadTimestamp)
        try "admin: {listen: \"127.0.0.1:1\"}\ntargets:\n  - name: x\n    url: not-a-url\n"
            .write(toFile: agent.configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        try await agent.waitForLog("config reload failed; keeping the running config")
        let success = await metric(agent, "probe_agent_config_reload_success")
        XCTAssertEqual(success, 0)
        let stampAfter = await metric(agent, Self.reloadTimestamp)
        XCTAssertEqual(stampAfter, stamp)
        let names = try await agent.status().keys.sorted()
        XCTAssertEqual(names, ["api"])
    }

    /// Two targets whose probes take 30 s and start in the first half second: with
    /// max_concurrency 1 only one is in flight; a reload to 2 starts the other at once, the first
    /// still running; a reload back to 1 cuts neither.
    func testMaxConcurrencyChangesWithoutCuttingProbesInFlight() async throws {
        let server = try FixtureServer(script: "http_server.py", args: ["{port}"])
        let names = (0..<1000).map { "slow-\($0)" }
            .filter { SchedulePlan.offset(name: $0, interval: .seconds(50)) < .milliseconds(500) }.prefix(2)
        XCTAssertEqual(names.count, 2)
        func config(_ limit: Int) -> String {
            """
            admin: {listen: "{admin}"}
            scheduler: {max_concurrency: \(limit)}
            targets:
            \(names.map { "  - {name: \($0), kind: http, url: \"\(server.baseURL)/slow-headers/30\", interval: 50s, timeout: 45s}" }
                .joined(separator: "\n"))
            """
        }
        let agent = try RunningAgent(config: config(1))
        try await agent.waitFor("one slow probe in flight") { await Self.slowWaiting(server) == 1 }
        try await Task.sleep(for: .seconds(1.5))
        let held = await Self.slowWaiting(server)
        XCTAssertEqual(held, 1, "the limit holds the second probe back")

        try agent.rewriteConfig(config(2))
        agent.signal(SIGHUP)
        try await agent.waitFor("both slow probes in flight") { await Self.slowWaiting(server) == 2 }
        try await agent.waitForLog("config reloaded: changed scheduler.max_concurrency")

        try agent.rewriteConfig(config(1))
        agent.signal(SIGHUP)
        try await agent.waitForLog("config reloaded: changed scheduler.max_concurrency")
        try await Task.sleep(for: .seconds(1))
        let still = await Self.slowWaiting(server)
        XCTAssertEqual(still, 2, "a lower limit cuts no probe in flight")
    }

    /// discovery added, moved to another gateway (another token), removed.
    func testDiscoveryStartsMovesAndStops() async throws {
        let first = try FixtureServer(script: "contextforge_stub.py", args: ["{port}", "--token", "first-token"])
        let second = try FixtureServer(script: "contextforge_stub.py", args: ["{port}", "--token", "second-token"])
        func config(discovery: FixtureServer?, token: String = "") -> String {
            var text = """
            admin: {listen: "{admin}"}
            defaults: {interval: 1s, timeout: 800ms}
            targets:
              - {name: static, kind: http, url: "http://127.0.0.1:9/", interval: 5s}

            """
            if let discovery {
                text += "discovery:\n  contextforge: {url: \"\(discovery.baseURL)\", token: \(token), interval: 1s}\n"
            }
            return text
        }
        let agent = try RunningAgent(config: config(discovery: nil))
        try await agent.waitFor("the static target") { (try? await agent.status().count) == 1 }

        // Added: the loop starts.
        try agent.rewriteConfig(config(discovery: first, token: "first-token"))
        agent.signal(SIGHUP)
        try await agent.waitFor("the first gateway's targets") { (try? await agent.status().count) == 5 }
        try await agent.waitForLog("config reloaded: changed discovery")
        let fromFirst = await DiscoveryHealthDaemonTests.discovery(agent)
        XCTAssertTrue((fromFirst["source"] as? String)?.contains(":\(first.port)") == true, "\(fromFirst)")

        // Moved: the second gateway is polled with its token, the first no more.
        try agent.rewriteConfig(config(discovery: second, token: "second-token"))
        agent.signal(SIGHUP)
        try await agent.waitFor("the second gateway polled") { await Self.gatewayRequests(second) > 0 }
        try await agent.waitFor("discovery from the second gateway in /status") {
            let discovery = await DiscoveryHealthDaemonTests.discovery(agent)
            return (discovery["source"] as? String)?.contains(":\(second.port)") == true && discovery["last_success"] != nil
        }
        let firstPolls = await Self.gatewayRequests(first)
        try await Task.sleep(for: .seconds(2.5))
        let firstPollsLater = await Self.gatewayRequests(first)
        XCTAssertEqual(firstPollsLater, firstPolls, "the old loop stopped")
        let count = try await agent.status().count
        XCTAssertEqual(count, 5)
        XCTAssertFalse(agent.log.contains("second-token") || agent.log.contains("first-token"))

        // Removed: the discovered targets go, and discovery leaves /status and /metrics.
        try agent.rewriteConfig(config(discovery: nil))
        agent.signal(SIGHUP)
        try await agent.waitFor("the discovered targets to go") { (try? await agent.status().count) == 1 }
        let gone = await DiscoveryHealthDaemonTests.discovery(agent)
        XCTAssertTrue(gone.isEmpty, "\(gone)")
        let metrics = try await agent.get("/metrics").1
        XCTAssertFalse(metrics.contains("probe_agent_discovery_success"), metrics)
        let polls = await Self.gatewayRequests(second)
        try await Task.sleep(for: .seconds(2.5))
        let pollsLater = await Self.gatewayRequests(second)
        XCTAssertEqual(pollsLater, polls, "no loop polls any more")
    }

    static func healthz(_ port: Int) async -> Int? {
        try? await HTTPClient.shared.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/healthz", timeout: .seconds(2))).status
    }

    static func metrics(_ port: Int) async -> String {
        guard let response = try? await HTTPClient.shared.execute(
            HTTPRequest(url: "http://127.0.0.1:\(port)/metrics", timeout: .seconds(5))) else { return "" }
        return String(decoding: response.body, as: UTF8.self)
    }

    static func slowWaiting(_ server: FixtureServer) async -> Int {
        let stats = try? await fetchJSON(server.baseURL + "/stats") as? [String: Any]
        return stats?["slow_waiting"] as? Int ?? -1
    }

    static func gatewayRequests(_ server: FixtureServer) async -> Int {
        (try? await fetchJSON(server.baseURL + "/requests") as? [[String: Any]])?.count ?? 0
    }
}

/// The change list's sections, the ones the daemon tests do not reach.
final class ConfigChangesTests: XCTestCase {
    func changes(_ old: String, _ new: String, shardApplied: Bool = true) throws -> ConfigChanges {
        let base = "targets:\n  - {name: a, url: \"http://127.0.0.1:9/mcp\"}\n"
        let (before, after) = (try ConfigFixture.parse(old + base), try ConfigFixture.parse(new + base))
        return ConfigChanges(from: before, to: after, ownedBefore: before.targets, ownedAfter: after.targets,
                             shardApplied: shardApplied, logLevelApplied: true)
    }

    func testSectionsAndNotes() throws {
        XCTAssertEqual(try changes("", "").summary, "no changes")
        XCTAssertEqual(try changes("shard: 0/2\n", "shard: 1/2\n").summary, "changed shard")
        XCTAssertEqual(try changes("shard: 0/2\n", "shard: 1/2\n", shardApplied: false).summary,
                       "changed shard (--shard or PROBE_AGENT_SHARD wins)")
        XCTAssertEqual(try changes("", "shutdown: {drain_timeout: 3s}\nexporter: {headers: {authorization: Bearer s3cret}}\n").summary,
                       "changed shutdown, exporter")
        var failed = try changes("admin: {listen: \"127.0.0.1:1\"}\n", "admin: {listen: \"127.0.0.1:2\"}\ndefaults: {interval: 7s}\n")
        failed.failed("admin.listen", "kept 127.0.0.1:1")
        XCTAssertEqual(failed.summary, "changed admin.listen (not applied: kept 127.0.0.1:1), defaults, targets (+0 -0 ~1)")
    }
}
