import Foundation
import HTTPClient
import TestSupport
import XCTest

/// The built daemon with `exporter.spool`, the real receiver (official protos) and a collector
/// outage of a few seconds: every span the agent made (its `exporter.file` copy is the count)
/// reaches the collector once it is back, across `kill -9` too; a full spool drops the oldest
/// and counts them. The issue's 10-minute outage at 100 probes/s is `scripts/bench-spool`.
final class SpoolDaemonTests: XCTestCase {
    static let targetCount = 10

    /// 10 plain-HTTP targets probed every 200 ms (50 probes/s, 100 spans/s).
    func config(endpoint: String, spool: String, file: String, exporterExtra: String = "") -> String {
        let http = try! Self.http.get()
        let targets = (0..<Self.targetCount).map { "  - name: t\($0)\n    kind: http\n    url: \(http.baseURL)/status/200" }
        return """
            admin:
              listen: {admin}
            log_level: info
            defaults:
              interval: 200ms
              timeout: 150ms
            exporter:
              endpoint: \(endpoint)
              file: \(file)
              spool:
                \(spool)\(exporterExtra.isEmpty ? "" : "\n  " + exporterExtra)
            targets:
            \(targets.joined(separator: "\n"))
            """
    }

    static let http = SharedFixture(make: { try FixtureServer(script: "http_server.py") }, stop: { $0.stop() })
    override class func tearDown() { http.stop() }

    let environment = ["OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_METRIC_EXPORT_INTERVAL": "1000"]

    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    func spanIDs(inFile path: String, endedBefore limit: Date? = nil) -> [String] {
        fileSpans(path).filter { span in
            guard let limit else { return true }
            let end = Double(span["endTimeUnixNano"] as? String ?? "") ?? .infinity
            return end / 1e9 < limit.timeIntervalSince1970
        }.compactMap { $0["spanId"] as? String }
    }

    /// Span ids of the trace requests the receiver accepted (not those it answered 503).
    func receivedSpanIDs(_ receiver: FixtureServer) async -> [String] {
        let records = (try? await fetchJSON(receiver.baseURL + "/received")) as? [[String: Any]] ?? []
        return records.filter { record in
            (record["path"] as? String) == "/v1/traces" && ((record["scripted"] as? [String: Any])?["status"] as? Int ?? 200) < 300
        }.flatMap { record -> [String] in
            ((record["decoded"] as? [String: Any])?["resourceSpans"] as? [[String: Any]] ?? []).flatMap { rs in
                (rs["scopeSpans"] as? [[String: Any]] ?? []).flatMap { ss in
                    (ss["spans"] as? [[String: Any]] ?? []).compactMap { $0["spanId"] as? String }
                }
            }
        }
    }

    /// Exit status of a system tool.
    func runTool(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func metrics(_ agent: RunningAgent) async -> String { (try? await agent.get("/metrics").1) ?? "" }

    /// What the collector does during the outage.
    enum Outage {
        /// Nothing listens: connection refused.
        case down
        /// The receiver answers 503 (the first with a `Retry-After`) until the outage ends.
        case unavailable
        /// A listener that accepts and never answers; the receiver takes its port afterwards.
        case silent
    }

    /// The sum of a family's samples with `labels` (every other label summed over).
    func total(_ metrics: String, _ name: String, labels: [String: String]) -> Double {
        metrics.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .filter { line in labels.allSatisfy { line.contains("\($0.key)=\"\($0.value)\"") } }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// Outage, then back: every span made arrives, each once, and nothing was dropped anywhere.
    func assertNothingLost(_ outage: Outage, exporterExtra: String = "", file: StaticString = #filePath, line: UInt = #line)
        async throws {
        let port = try freeLoopbackPort()
        let spool = temporaryPath("spool"), spansFile = temporaryPath("spans")
        defer { try? FileManager.default.removeItem(atPath: spool) }
        var receiver: FixtureServer?
        var silent: FixtureServer?
        switch outage {
        case .down: break
        case .unavailable:
            let started = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"], port: port)
            let steps: [[String: Any]] = [["status": 503, "headers": ["Retry-After": "1"]]]
                + Array(repeating: ["status": 503], count: 10_000)
            let body = try JSONSerialization.data(withJSONObject: steps)
            _ = try await HTTPClient.shared.execute(HTTPRequest(method: "POST", url: started.baseURL + "/_script", body: Array(body)))
            receiver = started
        case .silent:
            silent = try FixtureServer(script: "http_server.py", args: ["{port}", "--blackhole"], port: port)
        }
        let agent = try RunningAgent(config: config(endpoint: "http://127.0.0.1:\(port)", spool: "dir: \(spool)", file: spansFile,
                                                    exporterExtra: exporterExtra), environment: environment)
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        try await Task.sleep(for: .seconds(4))
        let during = await metrics(agent)
        XCTAssertGreaterThan(sample(during, "otlp_exporter_spool_items", labels: ["signal": "traces"]) ?? 0, 0, during,
                             file: file, line: line)
        XCTAssertGreaterThan(sample(during, "otlp_exporter_spool_oldest_age_seconds", labels: [:]) ?? 0, 0.5, file: file, line: line)
        let backlog = try await agent.statusDocument()["spool"] as? [String: Any] ?? [:]
        XCTAssertGreaterThan((backlog["items"] as? [String: Any])?["traces"] as? Int ?? 0, 0, "/status shows the backlog: \(backlog)",
                             file: file, line: line)
        XCTAssertGreaterThan(backlog["oldest_age_seconds"] as? Double ?? 0, 0.5, file: file, line: line)
        XCTAssertEqual(backlog["writable"] as? Bool, true, file: file, line: line)
        silent?.stop()
        if let receiver {
            _ = try await HTTPClient.shared.execute(HTTPRequest(method: "POST", url: receiver.baseURL + "/_script/clear"))
        }
        let collector = try receiver ?? FixtureServer(script: "otlp_receiver.py", args: ["{port}"], port: port)
        let madeDuringOutage = Set(spanIDs(inFile: spansFile))
        XCTAssertGreaterThan(madeDuringOutage.count, 200, file: file, line: line)
        try await agent.waitFor("every span of the outage at the collector", timeout: 40) {
            madeDuringOutage.isSubset(of: Set(await receivedSpanIDs(collector)))
        }
        try await agent.waitFor("the spool to empty") {
            total(await metrics(agent), "otlp_exporter_spool_records", labels: [:]) == 0
        }
        let after = await metrics(agent)
        XCTAssertEqual(sample(after, "probe_agent_spans_dropped_total", labels: [:]), 0, "no queue-full drops", file: file, line: line)
        XCTAssertEqual(total(after, "otlp_exporter_dropped_total", labels: [:]), 0, after, file: file, line: line)
        XCTAssertGreaterThan(sample(after, "otlp_exporter_spool_replayed_total", labels: ["signal": "traces"]) ?? 0, 0,
                             file: file, line: line)
        XCTAssertGreaterThan(sample(after, "otlp_exporter_spool_replayed_total", labels: ["signal": "metrics"]) ?? 0, 0,
                             "metrics are spooled too", file: file, line: line)
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), agent.log, file: file, line: line)
        let made = spanIDs(inFile: spansFile)
        let received = await receivedSpanIDs(collector)
        XCTAssertEqual(Set(made).subtracting(received).count, 0, "0 lost of \(made.count) spans", file: file, line: line)
        XCTAssertEqual(received.count, made.count, "each span once", file: file, line: line)
        collector.stop()
    }

    func testCollectorDownThenBackEverySpanArrives() async throws {
        try await assertNothingLost(.down)
    }

    /// 503 (once with Retry-After) to the fresh exports and the replay's tries while the outage lasts.
    func testCollectorAnswering503ThenAcceptingEverySpanArrives() async throws {
        try await assertNothingLost(.unavailable)
    }

    /// Each attempt runs into the exporter's 1 s timeout (the issue's 20 s answers and silent
    /// listeners, scaled down), then the collector takes the port.
    func testCollectorThatNeverAnswersThenBackEverySpanArrives() async throws {
        try await assertNothingLost(.silent, exporterExtra: "timeout: 1s")
    }

    func testKillNineDuringAnOutageTheSpansFromBeforeArriveAfterTheRestart() async throws {
        let port = try freeLoopbackPort()
        let spool = temporaryPath("spool"), spansFile = temporaryPath("spans")
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let yaml = config(endpoint: "http://127.0.0.1:\(port)", spool: "dir: \(spool)", file: spansFile)
        let first = try RunningAgent(config: yaml, environment: environment)
        try await first.waitFor("readiness") { (try? await first.get("/readyz").0) == 200 }
        try await Task.sleep(for: .seconds(3))
        let killedAt = Date()
        first.signal(SIGKILL)
        XCTAssertTrue(first.waitForExit(timeout: 5))
        // What the agent had for 1 s (5 schedule delays) when it was killed was in the spool.
        let beforeKill = Set(spanIDs(inFile: spansFile, endedBefore: killedAt.addingTimeInterval(-1)))
        XCTAssertGreaterThan(beforeKill.count, 100)

        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"], port: port)
        let second = try RunningAgent(config: yaml, environment: environment)
        try await second.waitFor("the spans from before the kill", timeout: 30) {
            beforeKill.isSubset(of: Set(await receivedSpanIDs(receiver)))
        }
        XCTAssertTrue(second.log.contains("from an earlier run to replay"), second.log)
        second.signal(SIGTERM)
        XCTAssertTrue(second.waitForExit(timeout: 20), second.log)
    }

    /// max_bytes reached: the oldest records go and are counted, so that what arrived plus what
    /// was counted is every span made; probing goes on.
    func testASmallSpoolDropsTheOldestAndCountsEverySpan() async throws {
        let port = try freeLoopbackPort()
        let spool = temporaryPath("spool"), spansFile = temporaryPath("spans")
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let agent = try RunningAgent(config: config(endpoint: "http://127.0.0.1:\(port)", spool: "dir: \(spool)\n    max_bytes: 64KiB",
                                                    file: spansFile, exporterExtra: "compression: none"),
                                     environment: environment)
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        try await agent.waitFor("spool_full drops", timeout: 20) {
            (sample(await metrics(agent), "otlp_exporter_dropped_total", labels: ["signal": "traces", "reason": "spool_full"]) ?? 0) > 0
        }
        let full = await metrics(agent)
        XCTAssertLessThanOrEqual(sample(full, "otlp_exporter_spool_bytes", labels: [:]) ?? .infinity, 65536)
        XCTAssertEqual(sample(full, "otlp_exporter_spool_writable", labels: [:]), 1)
        let (health, _) = try await agent.get("/healthz")
        XCTAssertEqual(health, 200)
        let probesBefore = spanIDs(inFile: spansFile).count
        try await Task.sleep(for: .seconds(1))
        XCTAssertGreaterThan(spanIDs(inFile: spansFile).count, probesBefore + 50, "probing goes on at its rate")
        XCTAssertTrue(agent.log.contains("reached max_bytes"), agent.log)

        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"], port: port)
        try await agent.waitFor("the spool to empty", timeout: 30) {
            sample(await metrics(agent), "otlp_exporter_spool_records", labels: ["signal": "traces"]) == 0
        }
        let drained = await metrics(agent)
        let dropped = Int(sample(drained, "otlp_exporter_dropped_total", labels: ["signal": "traces", "reason": "spool_full"]) ?? 0)
        XCTAssertEqual(sample(drained, "probe_agent_spans_dropped_total", labels: [:]), 0)
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), agent.log)
        let made = spanIDs(inFile: spansFile).count
        let received = await receivedSpanIDs(receiver).count
        XCTAssertEqual(received + dropped, made, "received \(received) + dropped \(dropped) = made")
        XCTAssertGreaterThan(received, 0)
    }

    /// A spool on a tmpfs that fills up: the disk refuses, the agent warns, says so in a metric,
    /// falls back to in-memory retries and keeps probing; what was spooled still arrives later.
    func testAFullDiskFallsBackToMemoryWithAWarningAndAMetric() async throws {
        let mountPoint = temporaryPath("tmpfs")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mountPoint) }
        guard (try? runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=96k", "tmpfs", mountPoint])) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)")
        }
        defer { _ = try? runTool("/bin/umount", ["-l", mountPoint]) }  // lazy: even if a file is still open
        let port = try freeLoopbackPort()
        let spansFile = temporaryPath("spans")
        let agent = try RunningAgent(config: config(endpoint: "http://127.0.0.1:\(port)", spool: "dir: \(mountPoint)/spool",
                                                    file: spansFile, exporterExtra: "compression: none\n  timeout: 1s"),
                                     environment: environment)
        try await agent.waitFor("the disk to refuse", timeout: 20) {
            sample(await metrics(agent), "otlp_exporter_spool_writable", labels: [:]) == 0
        }
        let full = await metrics(agent)
        XCTAssertGreaterThanOrEqual(sample(full, "otlp_exporter_spool_write_errors_total", labels: [:]) ?? 0, 1)
        try await agent.waitForLog("cannot write")
        XCTAssertTrue(agent.log.contains("No space left on device"), agent.log)
        let (health, _) = try await agent.get("/healthz")
        XCTAssertEqual(health, 200)
        let spooled = Int(sample(full, "otlp_exporter_spool_items", labels: ["signal": "traces"]) ?? 0)
        XCTAssertGreaterThan(spooled, 0)

        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"], port: port)
        try await agent.waitFor("the spool to empty", timeout: 30) {
            sample(await metrics(agent), "otlp_exporter_spool_records", labels: ["signal": "traces"]) == 0
        }
        let drained = await metrics(agent)
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), agent.log)
        // Every span made either arrived or was dropped and counted (by the exporter or the queue).
        let counted = Int(total(drained, "otlp_exporter_dropped_total", labels: ["signal": "traces"])
            + total(drained, "probe_agent_spans_dropped_total", labels: [:]))
        let made = spanIDs(inFile: spansFile).count
        let received = await receivedSpanIDs(receiver).count
        XCTAssertEqual(received + counted, made, "received \(received) + counted \(counted) = made")
    }
}
