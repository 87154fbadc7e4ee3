import Foundation
import TestSupport
import XCTest
@testable import ProbeAgent

/// SIGHUP applies a changed `exporter:` section to the running daemon: the new exporter takes the
/// spans that end from then on, the old one drains what it holds, and no span is lost between them.
final class ExporterReloadTests: XCTestCase {
    func config(mcp: FixtureServer, receiver: FixtureServer, file: String, sampling: String = "") -> String {
        """
        admin:
          listen: {admin}
        log_level: info
        defaults: {interval: 300ms, timeout: 250ms}
        exporter:
          endpoint: \(receiver.baseURL)
          file: \(file)\(sampling.isEmpty ? "" : "\n  sampling: \(sampling)")
        targets:
          - name: probed
            url: \(mcp.baseURL)/mcp
        """
    }

    /// The span ids a receiver got, in order of arrival.
    func spanIDs(_ receiver: FixtureServer) async throws -> [String] {
        let records = try await fetchJSON(receiver.baseURL + "/received") as? [[String: Any]] ?? []
        var ids: [String] = []
        for record in records where (record["path"] as? String)?.hasSuffix("/v1/traces") == true {
            let decoded = record["decoded"] as? [String: Any] ?? [:]
            for rs in decoded["resourceSpans"] as? [[String: Any]] ?? [] {
                for ss in rs["scopeSpans"] as? [[String: Any]] ?? [] {
                    ids += (ss["spans"] as? [[String: Any]] ?? []).compactMap { $0["spanId"] as? String }
                }
            }
        }
        return ids
    }

    func testSIGHUPMovesExportToASecondReceiverWithoutLosingASpan() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let first = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let second = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let file = ProbeSpanFile()  // every span the daemon made, by its own queue
        let agent = try RunningAgent(config: config(mcp: mcp, receiver: first, file: file.path),
                                     environment: ["OTEL_BSP_SCHEDULE_DELAY": "100"])
        try await agent.waitFor("spans at the first receiver") { ((try? await spanIDs(first)) ?? []).count >= 6 }

        try agent.rewriteConfig(config(mcp: mcp, receiver: second, file: file.path))
        agent.signal(SIGHUP)
        try await agent.waitForLog("exporter reconfigured")
        try await agent.waitFor("spans at the second receiver") { ((try? await spanIDs(second)) ?? []).count >= 6 }
        // The first receiver gets what its queue held, then nothing more.
        try await Task.sleep(for: .seconds(1))
        let firstAfterDrain = try await spanIDs(first)
        try await Task.sleep(for: .seconds(1))
        let firstLater = try await spanIDs(first)
        XCTAssertEqual(firstLater.count, firstAfterDrain.count, "the old exporter is done after its drain")

        let stopping = unixNanosNow() - 200_000_000  // spans that end while the queues shut down may be refused by either
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 15), agent.log)
        let made = Set(file.spans.filter { UInt64($0.raw["endTimeUnixNano"] as? String ?? "") ?? 0 < stopping }
            .compactMap { $0.raw["spanId"] as? String })
        let received = Set(try await spanIDs(first)).union(try await spanIDs(second))
        XCTAssertGreaterThan(made.count, 12)
        XCTAssertEqual(made.subtracting(received), [], "spans made but received by neither; log:\n\(agent.log.suffix(3000))")
        XCTAssertNil(agent.log.range(of: #"[1-9][0-9]* (dropped|unsent)"#, options: .regularExpression), agent.log)
        XCTAssertTrue(agent.log.contains("exporter reconfigured: traces to \(second.baseURL)/v1/traces"), agent.log)
    }

    /// `exporter.sampling` changes on SIGHUP: ratio 0 exports nothing, always_on then every probe.
    func testSIGHUPSwitchesSampling() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let file = ProbeSpanFile()
        let agent = try RunningAgent(config: config(mcp: mcp, receiver: receiver, file: file.path,
                                                    sampling: "{mode: ratio, ratio: 0}"),
                                     environment: ["OTEL_BSP_SCHEDULE_DELAY": "100"])
        var traces = Set<String>()  // of the probes made, as /status shows the last one's
        try await agent.waitFor("three probes") {
            let last = ((try? await agent.status()) ?? [:])["probed"]?["last_trace_id"] as? String
            if let id = last { traces.insert(id) }
            return traces.count >= 3
        }
        try await Task.sleep(for: .milliseconds(300))  // a batch would have gone out by now
        let sampledOut = try await spanIDs(receiver)
        XCTAssertEqual(sampledOut, [], "ratio 0 samples every probe out")

        try agent.rewriteConfig(config(mcp: mcp, receiver: receiver, file: file.path, sampling: "{mode: always_on}"))
        agent.signal(SIGHUP)
        try await agent.waitForLog("exporter reconfigured")
        try await agent.waitFor("sampled spans at the receiver") { ((try? await spanIDs(receiver)) ?? []).count >= 3 }
        XCTAssertFalse(file.probes(of: "probed").isEmpty)
        withExtendedLifetime(agent) {}
    }

    /// A SIGHUP that leaves `exporter:` as it was keeps the running exporters (no reconfigure line).
    func testUnchangedExporterSectionIsKept() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let file = ProbeSpanFile()
        let text = config(mcp: mcp, receiver: receiver, file: file.path)
        let agent = try RunningAgent(config: text, environment: ["OTEL_BSP_SCHEDULE_DELAY": "100"])
        try await agent.waitForLog("probe-agent started")
        agent.signal(SIGHUP)
        try await agent.waitForLog("config reloaded")
        XCTAssertFalse(agent.log.contains("exporter reconfigured"), agent.log)
        withExtendedLifetime(agent) {}
    }

    /// A section added where there was none, an unchanged one, one that cannot be built (kept
    /// out: the running exporters stay), and the section removed again.
    func testReconfigureStepByStep() async throws {
        let telemetry = try DaemonTelemetry(exporter: nil, environment: [:], diagnostics: { _ in })
        telemetry.start()
        XCTAssertNil(telemetry.otlpSpans)
        let section = ExporterSettings(endpoint: "http://127.0.0.1:9")
        XCTAssertTrue(try telemetry.reconfigure(exporter: section, drainTimeout: .seconds(1)))
        XCTAssertEqual(telemetry.otlpSpans?.config.endpoint, "http://127.0.0.1:9/v1/traces")
        XCTAssertFalse(try telemetry.reconfigure(exporter: section, drainTimeout: .seconds(1)), "unchanged")
        XCTAssertThrowsError(try telemetry.reconfigure(exporter: ExporterSettings(file: "/nonexistent-dir/spans.jsonl"),
                                                       drainTimeout: .seconds(1))) {
            XCTAssertEqual("\($0)", "cannot open /nonexistent-dir/spans.jsonl to append spans: No such file or directory")
        }
        XCTAssertEqual(telemetry.otlpSpans?.config.endpoint, "http://127.0.0.1:9/v1/traces", "a section that fails changes nothing")
        XCTAssertTrue(try telemetry.reconfigure(exporter: nil, drainTimeout: .seconds(1)))
        XCTAssertNil(telemetry.otlpSpans)
        await telemetry.shutdown(deadline: .now + .seconds(1))
        XCTAssertFalse(try telemetry.reconfigure(exporter: section, drainTimeout: .seconds(1)), "after shutdown")
    }
    /// The spool is opened once, at start: a reload that moves it applies the rest of `exporter:`,
    /// keeps the running spool, says so, and counts as failed until the file matches what runs.
    func testSIGHUPKeepsTheRunningSpoolAndSaysSo() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let first = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let second = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spool-reload-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = ProbeSpanFile()
        func text(_ receiver: FixtureServer, spool: String) -> String {
            config(mcp: mcp, receiver: receiver, file: file.path).replacingOccurrences(
                of: "  file: \(file.path)", with: "  file: \(file.path)\n  spool: {dir: \(dir)/\(spool)}")
        }
        let agent = try RunningAgent(config: text(first, spool: "a"), environment: ["OTEL_BSP_SCHEDULE_DELAY": "100"])
        try await agent.waitForLog("probe-agent started")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/a"))

        try agent.rewriteConfig(text(second, spool: "b"))
        agent.signal(SIGHUP)
        try await agent.waitForLog("config reloaded: changed exporter (not applied: exporter.spool applies at the next start)")
        XCTAssertTrue(agent.log.contains("exporter reconfigured: traces to \(second.baseURL)/v1/traces"), agent.log)
        try await agent.waitFor("spans at the second receiver") { ((try? await spanIDs(second)) ?? []).count >= 2 }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b"), "the running spool stays in a")
        let (_, body) = try await agent.get("/metrics")
        XCTAssertEqual(sample(body, "probe_agent_config_reload_success", labels: [:]), 0)
    }
}
