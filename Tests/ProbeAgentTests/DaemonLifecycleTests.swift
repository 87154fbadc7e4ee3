import Foundation
import HTTPClient
import TestSupport
import XCTest
@testable import ProbeAgent

/// The real daemon's shutdown bounds and its logging under a stderr nobody reads.
final class DaemonLifecycleTests: XCTestCase {
    /// A target name that falls due within the first second of a 50 s interval.
    static let earlySlowTarget = (0..<1000).map { "slow-\($0)" }
        .first { SchedulePlan.offset(name: $0, interval: .seconds(50)) < .milliseconds(500) }!

    /// One 40 s probe (timeout 45 s, so only the shutdown can cut it short), exported to `receiver`
    /// only at shutdown.
    func startAgentWithA40sProbe(_ server: FixtureServer, receiver: FixtureServer, extra: String = "") throws -> RunningAgent {
        let config = """
        admin:
          listen: {admin}
        log_level: info
        \(extra)
        exporter:
          endpoint: \(receiver.baseURL)
        targets:
          - name: \(Self.earlySlowTarget)
            kind: http
            url: \(server.baseURL)/slow-headers/40
            interval: 50s
            timeout: 45s
            failure_threshold: 1
        """
        return try RunningAgent(config: config, environment: ["OTEL_BSP_SCHEDULE_DELAY": "600000"])
    }

    /// Requests the fixture holds (those of agents before this one included).
    func slowWaiting(_ server: FixtureServer) async -> Int {
        let stats = try? await fetchJSON(server.baseURL + "/stats") as? [String: Any]
        return stats?["slow_waiting"] as? Int ?? 0
    }

    /// Starts the agent and waits until its probe is held by the fixture.
    func startAgentWithA40sProbeInFlight(_ server: FixtureServer, receiver: FixtureServer, extra: String = "") async throws -> RunningAgent {
        let before = await slowWaiting(server)
        let agent = try startAgentWithA40sProbe(server, receiver: receiver, extra: extra)
        try await agent.waitFor("the slow probe in flight") { await slowWaiting(server) > before }
        return agent
    }

    /// Default bounds: drain 10 s, flush 5 s. The probe runs until the drain deadline, is then
    /// cancelled, and its span is exported marked cancelled, without a state change.
    func testSIGTERMCancelsAProbePastTheDrainDeadlineAndExportsItsSpan() async throws {
        let server = try FixtureServer(script: "http_server.py", args: ["{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let agent = try await startAgentWithA40sProbeInFlight(server, receiver: receiver)

        let signalled = Date()
        agent.signal(SIGTERM)
        let status = agent.exitStatus(within: 10 + 5 + 5)
        let took = Date().timeIntervalSince(signalled)
        XCTAssertEqual(status, 0, "\(Int(took)) s after SIGTERM (drain 10 s + flush 5 s):\n\(agent.log)")
        XCTAssertGreaterThanOrEqual(took, 9.5, "probes in flight may run until the drain deadline")
        XCTAssertTrue(agent.log.contains("did not finish within 10"), agent.log)

        let roots = try await receivedSpans(receiver).filter { $0.span["name"] as? String == "probe" }
        let root = try XCTUnwrap(roots.first, "the cancelled probe's span was not exported:\n\(agent.log)")
        let attributes = attributeMap(root.span["attributes"])
        XCTAssertEqual(attributes["probe.target"] as? String, Self.earlySlowTarget)
        XCTAssertEqual(attributes["error.type"] as? String, "cancelled")
        XCTAssertNil(attributes["health.status"], "a cancelled probe is no verdict on the target")
        XCTAssertEqual((root.span["status"] as? [String: Any])?["code"] as? Int, 2, "STATUS_CODE_ERROR")
        let events = (root.span["events"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        XCTAssertFalse(events.contains("health.state_change"), "cancelling is not a failure of the target: \(events)")
    }

    func testShutdownBoundsAreConfigurable() async throws {
        let server = try FixtureServer(script: "http_server.py", args: ["{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let shutdown = "shutdown:\n  drain_timeout: 1s\n  flush_timeout: 2s"

        let bounded = try await startAgentWithA40sProbeInFlight(server, receiver: receiver, extra: shutdown)
        let signalled = Date()
        bounded.signal(SIGTERM)
        XCTAssertEqual(bounded.exitStatus(within: 1 + 2 + 3), 0, "drain 1 s + flush 2 s:\n\(bounded.log)")
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 1 + 2 + 3)
    }

    /// While the shutdown drains (default: 10 s), a second SIGTERM or SIGINT ends the process at once.
    func testASecondSignalExitsAtOnce() async throws {
        let server = try FixtureServer(script: "http_server.py", args: ["{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        for (first, second, status) in [(SIGTERM, SIGTERM, Int32(128 + SIGTERM)), (SIGTERM, SIGINT, Int32(128 + SIGINT))] {
            let agent = try await startAgentWithA40sProbeInFlight(server, receiver: receiver)
            agent.signal(first)
            try await agent.waitFor("the shutdown to begin") { agent.log.contains("stopping") }
            XCTAssertNil(agent.exitStatus(within: 0), "draining: the probe may run 10 s")
            let signalled = Date()
            agent.signal(second)
            XCTAssertEqual(agent.exitStatus(within: 3), status, "a second signal must end the agent at once:\n\(agent.log)")
            XCTAssertLessThan(Date().timeIntervalSince(signalled), 3)
            XCTAssertTrue(agent.log.contains("exiting at once"), agent.log)
        }
    }

    /// Failing targets at 200 ms: every probe logs a line, far more than a pipe buffer holds.
    func failingFleetConfig(logLevel: String = "info") throws -> String {
        let closed = try freeLoopbackPort()
        let targets = (0..<40).map { "  - name: down-\($0)\n    kind: http\n    url: http://127.0.0.1:\(closed)/healthz" }
        return """
        admin:
          listen: {admin}
        log_level: \(logLevel)
        defaults:
          interval: 200ms
          timeout: 150ms
        targets:
        \(targets.joined(separator: "\n"))
        """
    }

    /// Probes started so far (the scheduler's lateness histogram counts every start).
    func probesStarted(_ agent: RunningAgent) async throws -> Double {
        let metrics = try await agent.get("/metrics").1
        return sample(metrics, "probe_agent_schedule_lateness_seconds_count", labels: [:]) ?? 0
    }

    func logLinesDropped(_ agent: RunningAgent, reason: String) async throws -> Double {
        let metrics = try await agent.get("/metrics").1
        return sample(metrics, "probe_agent_log_lines_dropped_total", labels: ["reason": reason]) ?? -1
    }

    /// 40 targets at 200 ms are 200 probes a second; a stalled probe thread starts none.
    func assertProbingAtRate(_ agent: RunningAgent, _ what: String) async throws {
        let before = try await probesStarted(agent)
        try await Task.sleep(for: .seconds(3))
        let started = try await probesStarted(agent) - before
        XCTAssertGreaterThan(started, 300, "\(what): \(started) probes in 3 s (expected about 600)")
    }

    func testAStderrNobodyReadsLeavesProbingAtRateAndCountsDroppedLines() async throws {
        let unread = Pipe()
        // Four lines a probe at trace level, about 200 KB/s: the pipe's 64 KiB fill in a second,
        // the log queue's 1 MiB in a few more.
        let agent = try RunningAgent(config: try failingFleetConfig(logLevel: "trace"), standardError: unread)
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        try await Task.sleep(for: .seconds(2))
        try await assertProbingAtRate(agent, "stderr not read")
        try await agent.waitFor("lines dropped", timeout: 20) { (try? await logLinesDropped(agent, reason: "queue_full")) ?? 0 > 0 }
        try await assertProbingAtRate(agent, "stderr not read, log queue full")
        let (health, _) = try await agent.get("/healthz")
        XCTAssertEqual(health, 200)
        let dropped = try await logLinesDropped(agent, reason: "queue_full")
        try await Task.sleep(for: .seconds(1))
        let droppedLater = try await logLinesDropped(agent, reason: "queue_full")
        XCTAssertGreaterThan(droppedLater, dropped, "every line that does not fit is counted")
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.exitStatus(within: 20), 0, "the exit must not wait on the unread pipe for long")
        try? unread.fileHandleForReading.close()
    }

    func testAStderrWhoseReaderWentAwayIsNotFatal() async throws {
        let stderr = Pipe()
        let agent = try RunningAgent(config: try failingFleetConfig(), standardError: stderr)
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        try stderr.fileHandleForReading.close()
        try await Task.sleep(for: .seconds(1))
        XCTAssertNil(agent.exitStatus(within: 0), "SIGPIPE must not kill the agent")
        try await assertProbingAtRate(agent, "stderr closed")
        let failed = try await logLinesDropped(agent, reason: "write_failed")
        XCTAssertGreaterThan(failed, 0, "lines a failed write loses are counted")
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.exitStatus(within: 20), 0)
    }

    /// Lines read normally all arrive, in order, up to the last one at exit.
    func testLogLinesArriveInOrderAndAreFlushedAtExit() async throws {
        let agent = try RunningAgent(config: try failingFleetConfig(logLevel: "debug"))
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        try await Task.sleep(for: .seconds(1))
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.exitStatus(within: 20), 0)
        let lines = agent.log.split(separator: "\n")
        XCTAssertTrue(lines.first?.contains("probe-agent started") == true, "\(lines.prefix(3))")
        XCTAssertTrue(lines.last?.contains("stopped") == true, "the last line is flushed at exit: \(lines.suffix(3))")
        XCTAssertTrue(lines.allSatisfy { $0.contains(" probe-agent:") }, "every line whole")
        // Timestamps never go backwards (one writer, in order).
        let stamps = lines.compactMap { $0.split(separator: " ").first.map(String.init) }
        XCTAssertEqual(stamps, stamps.sorted(), "lines out of order")
    }

    /// `log_level: debug` has a line per probe (target, status, duration, trace id); no level says a secret.
    func testDebugLogsEveryProbeWithoutSecrets() async throws {
        let server = try FixtureServer(script: "http_server.py", args: ["{port}"])
        let config = """
        admin:
          listen: {admin}
        log_level: trace
        defaults:
          interval: 300ms
          timeout: 250ms
        targets:
          - name: api
            kind: http
            url: \(server.baseURL)/status/200?api_key=query-secret-1
            headers:
              X-Api-Key: header-secret-2
            auth:
              type: bearer
              token: bearer-secret-3
          - name: broken
            kind: http
            url: \(server.baseURL)/status/503
        """
        let agent = try RunningAgent(config: config)
        try await agent.waitFor("a few probes of each") {
            agent.log.components(separatedBy: "probe finished").count > 6
        }
        agent.signal(SIGTERM)
        XCTAssertEqual(agent.exitStatus(within: 20), 0)
        let log = agent.log
        let finished = log.split(separator: "\n").filter { $0.contains("probe finished") }
        let api = try XCTUnwrap(finished.first { $0.contains("target=api") }, log)
        XCTAssertTrue(api.contains(" debug "), String(api))
        XCTAssertTrue(api.contains("health_status=healthy"), String(api))
        XCTAssertTrue(api.contains("http_status=200"), String(api))
        XCTAssertTrue(api.contains("duration_ms="), String(api))
        XCTAssertNotNil(api.range(of: "trace_id=[0-9a-f]{32}", options: .regularExpression), String(api))
        let broken = try XCTUnwrap(finished.first { $0.contains("target=broken") }, log)
        XCTAssertTrue(broken.contains("health_status=unhealthy") && broken.contains("error_type=http_5xx"), String(broken))
        XCTAssertTrue(log.contains("probe starting"), "trace level: the start of each probe")
        for secret in ["query-secret-1", "header-secret-2", "bearer-secret-3"] {
            XCTAssertFalse(log.contains(secret), "\(secret) in the log:\n\(log)")
        }
    }
}

extension RunningAgent {
    /// The exit status once the process has ended, nil if it is still running after `seconds`.
    func exitStatus(within seconds: TimeInterval) -> Int32? {
        waitForExit(timeout: seconds) ? process.terminationStatus : nil
    }
}
