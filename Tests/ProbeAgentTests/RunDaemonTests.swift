import Foundation
import HTTPClient
import TestSupport
import XCTest

/// A `probe-agent run` process with its config file and admin address.
final class RunningAgent {
    let process: Process
    let adminURL: String
    let configPath: String
    let logPath: String

    /// `standardError`: where the agent's log lines go (default: the file at `logPath`, with stdout).
    init(config: String, environment: [String: String] = [:], arguments: [String] = [], standardError: Pipe? = nil) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let adminPort = try freeLoopbackPort()
        adminURL = "http://127.0.0.1:\(adminPort)"
        configPath = dir.appendingPathComponent("agent.yaml").path
        logPath = dir.appendingPathComponent("agent.log").path
        try config.replacingOccurrences(of: "{admin}", with: "127.0.0.1:\(adminPort)")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: AgentBinary.path)
        process.arguments = ["run", "--config", configPath] + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OTEL_") }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = standardError ?? log
        try process.run()
    }

    func rewriteConfig(_ config: String) throws {
        let admin = adminURL.replacingOccurrences(of: "http://", with: "")
        try config.replacingOccurrences(of: "{admin}", with: admin).write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func get(_ path: String) async throws -> (Int, String) {
        let response = try await HTTPClient.shared.execute(HTTPRequest(url: adminURL + path, timeout: .seconds(5)))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    /// Polls until `condition` holds or `timeout` passes.
    func waitFor(_ what: String, timeout: TimeInterval = 15, _ condition: () async -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw FixtureError("timed out waiting for \(what); agent log:\n\(log.suffix(3000))")
    }

    /// `/status` as a whole: `targets`, `count`, and `discovery` and `spool` when configured.
    func statusDocument() async throws -> [String: Any] {
        let (_, body) = try await get("/status")
        return try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
    }

    /// `/status`'s targets by name.
    func status() async throws -> [String: [String: Any]] {
        let targets = try await statusDocument()["targets"] as? [[String: Any]] ?? []
        return Dictionary(targets.map { (($0["name"] as? String) ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Log lines reach standard error from the agent's writer thread, a moment after what they report.
    func waitForLog(_ text: String, timeout: TimeInterval = 5) async throws {
        try await waitFor("the log line \"\(text)\"", timeout: timeout) { log.contains(text) }
    }

    func waitForExit(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        return !process.isRunning
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// The value of a Prometheus sample whose line starts with `prefix` (name + labels as rendered).
func sample(_ metrics: String, _ name: String, labels: [String: String]) -> Double? {
    for line in metrics.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        let matches = labels.allSatisfy { line.contains("\($0.key)=\"\($0.value)\"") }
        if matches, let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
    }
    return nil
}

final class RunDaemonTests: XCTestCase {
    func config(targets: String, extra: String = "") -> String {
        """
        admin:
          listen: {admin}
        log_level: info
        defaults:
          interval: 1s
          timeout: 800ms
          failure_threshold: 2
        \(extra)
        targets:
        \(targets)
        """
    }

    func testDaemonProbesServesMetricsAndStatusReloadsAndFlushesOnSIGTERM() async throws {
        let json = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let stateless = try FixtureServer(script: "mcp_server.py", args: ["stateless", "{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let closed = try freeLoopbackPort()
        let targets = """
          - name: json
            url: \(json.baseURL)/mcp
          - name: stateless
            url: \(stateless.baseURL)/mcp
            transport: streamable_http
          - name: down
            url: http://127.0.0.1:\(closed)/mcp
        """
        let exporter = "exporter:\n  endpoint: \(receiver.baseURL)"
        // A long schedule delay: nothing is exported before shutdown, so SIGTERM must flush it all.
        let agent = try RunningAgent(config: config(targets: targets, extra: exporter),
                                     environment: ["OTEL_BSP_SCHEDULE_DELAY": "600000"])

        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        let (healthStatus, _) = try await agent.get("/healthz")
        XCTAssertEqual(healthStatus, 200)
        try await agent.waitFor("the down target to go down") {
            (try? await agent.status()["down"]?["state"] as? String) == "down"
        }
        let status = try await agent.status()
        XCTAssertEqual(status["json"]?["state"] as? String, "up")
        XCTAssertEqual(status["stateless"]?["state"] as? String, "up")
        XCTAssertEqual((status["down"]?["last_result"] as? [String: Any])?["error_type"] as? String, "connection_refused")
        XCTAssertEqual((status["json"]?["last_trace_id"] as? String)?.count, 32)
        XCTAssertEqual((status["down"]?["last_transition"] as? [String: Any])?["to"] as? String, "down")

        let (metricsStatus, metrics) = try await agent.get("/metrics")
        XCTAssertEqual(metricsStatus, 200)
        XCTAssertEqual(sample(metrics, "probe_success", labels: ["target": "json"]), 1)
        XCTAssertEqual(sample(metrics, "probe_success", labels: ["target": "down"]), 0)
        XCTAssertEqual(sample(metrics, "probe_http_status_code", labels: ["target": "json"]), 200)
        // blackbox_exporter's gauges of the last probe, not histograms.
        XCTAssertGreaterThan(sample(metrics, "probe_duration_seconds", labels: ["target": "json"]) ?? 0, 0)
        XCTAssertNotNil(sample(metrics, "probe_http_duration_seconds", labels: ["target": "json", "phase": "connect"]))
        XCTAssertFalse(metrics.contains("probe_duration_seconds_bucket"))
        XCTAssertGreaterThanOrEqual(sample(metrics, "probe_consecutive_failures", labels: ["target": "down"]) ?? 0, 2)
        XCTAssertEqual(sample(metrics, "probe_health_status", labels: ["target": "down", "status": "unreachable"]), 1)
        XCTAssertNotNil(sample(metrics, "probe_state_transitions_total", labels: ["target": "down", "to": "down"]))
        XCTAssertEqual(sample(metrics, "probe_agent_config_reload_success", labels: [:]), 1)

        // SIGHUP with a changed config: a target added, one removed; the others keep their state.
        let changed = targets.replacingOccurrences(of: "  - name: stateless\n    url: \(stateless.baseURL)/mcp\n    transport: streamable_http\n", with: "")
            + "\n  - name: added\n    url: \(json.baseURL)/mcp"
        try agent.rewriteConfig(config(targets: changed, extra: exporter))
        agent.signal(SIGHUP)
        try await agent.waitFor("the added target") { (try? await agent.status()["added"]?["state"] as? String) == "up" }
        let afterReload = try await agent.status()
        XCTAssertEqual(afterReload["down"]?["state"] as? String, "down", "state of unchanged targets is kept")
        XCTAssertNil(afterReload["stateless"])
        let metricsAfterReload = try await agent.get("/metrics").1
        XCTAssertNil(sample(metricsAfterReload, "probe_success", labels: ["target": "stateless"]), "a removed target's series go")

        // SIGHUP with a broken config: the old one keeps running, the failure is a metric and a log line.
        try "targets:\n  - name: x\n    url: not-a-url\n".write(toFile: agent.configPath, atomically: true, encoding: .utf8)
        agent.signal(SIGHUP)
        try await agent.waitFor("reload failure metric") {
            let metrics = (try? await agent.get("/metrics").1) ?? ""
            return sample(metrics, "probe_agent_config_reload_success", labels: [:]) == 0
        }
        XCTAssertTrue(agent.process.isRunning)
        try await agent.waitForLog("config reload failed")
        let targetCount = try await agent.status().count
        XCTAssertEqual(targetCount, 3)

        // SIGTERM: stop, flush every span of the finished probes.
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), "agent did not stop:\n\(agent.log)")
        XCTAssertEqual(agent.process.terminationStatus, 0, agent.log)
        let spans = try await receivedSpans(receiver)
        let roots = spans.filter { $0.span["name"] as? String == "probe" }
        let jsonPosts = (try await fetchJSON(json.baseURL + "/_test/requests") as? [[String: Any]] ?? [])
            .filter { $0["method"] as? String == "POST" }.count
        let jsonRoots = roots.filter { attributeMap($0.span["attributes"])["probe.target"] as? String == "json"
            || attributeMap($0.span["attributes"])["probe.target"] as? String == "added" }.count
        XCTAssertGreaterThan(jsonPosts, 0)
        XCTAssertEqual(jsonRoots, jsonPosts, "every finished probe's span was exported at shutdown")
        let downRoot = try XCTUnwrap(roots.first { attributeMap($0.span["attributes"])["probe.target"] as? String == "down" })
        XCTAssertEqual(attributeMap(downRoot.span["attributes"])["error.type"] as? String, "connection_refused")
        let changes = roots.flatMap { ($0.span["events"] as? [[String: Any]] ?? []) }.filter { $0["name"] as? String == "health.state_change" }
        XCTAssertFalse(changes.isEmpty, "state changes are span events")
    }

    func testShardsCoverEveryTargetExactlyOnce() async throws {
        let json = try FixtureServer(script: "mcp_server.py", args: ["stateless", "{port}"])
        let names = (0..<9).map { "target-\($0)" }
        let targets = names.map { "  - name: \($0)\n    url: \(json.baseURL)/mcp" }.joined(separator: "\n")
        let agents = try (0..<3).map { try RunningAgent(config: config(targets: targets), arguments: ["--shard", "\($0)/3"]) }
        var owned: [[String]] = []
        for agent in agents {
            try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
            owned.append(try await agent.status().keys.sorted())
        }
        XCTAssertEqual(owned.flatMap { $0 }.sorted(), names.sorted(), "every target exactly once: \(owned)")
        for agent in agents { agent.signal(SIGTERM) }
        for agent in agents { XCTAssertTrue(agent.waitForExit(timeout: 20)) }
    }

    /// No timeout anywhere: the default 10s shrinks to the 1s interval instead of failing validation.
    func testOneSecondIntervalAloneRuns() async throws {
        let json = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let agent = try RunningAgent(config: """
            admin: {listen: "{admin}"}
            targets:
              - name: fast
                url: \(json.baseURL)/mcp
                interval: 1s
            """)
        try await agent.waitFor("three probes of the 1s target") {
            let requests = (try? await fetchJSON(json.baseURL + "/_test/requests")) as? [[String: Any]] ?? []
            return requests.count { $0["method"] as? String == "POST" } >= 3
        }
        let state = try await agent.status()["fast"]?["state"] as? String
        XCTAssertEqual(state, "up")
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), agent.log)
        XCTAssertEqual(agent.process.terminationStatus, 0, agent.log)
    }

    func testBadConfigExitsTwoWithFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml")
        try "targets:\n  - name: a\n    url: http://127.0.0.1:1/mcp\n    intervall: 5s\n".write(to: dir, atomically: true, encoding: .utf8)
        for command in ["run", "validate"] {
            let result = try AgentBinary.run([command, "--config", dir.path])
            XCTAssertEqual(result.status, 2, command)
            XCTAssertTrue(result.stderr.contains(":4:"), "\(command): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("intervall"), result.stderr)
        }
    }
}
