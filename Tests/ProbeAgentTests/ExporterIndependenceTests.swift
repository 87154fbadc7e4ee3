import Foundation
import HTTPClient
import Synchronization
import TestSupport
import Tracing
import XCTest
@testable import ProbeAgent

/// Spans in a file of OTLP/JSON lines (one `ExportTraceServiceRequest` per line).
func fileSpans(_ path: String) -> [[String: Any]] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    var spans: [[String: Any]] = []
    for line in text.split(separator: "\n") {
        guard let request = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
        for rs in request["resourceSpans"] as? [[String: Any]] ?? [] {
            for ss in rs["scopeSpans"] as? [[String: Any]] ?? [] {
                spans += ss["spans"] as? [[String: Any]] ?? []
            }
        }
    }
    return spans
}

/// Exporter lines as the daemon would log them.
final class DiagnosticLines: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    func add(_ line: String) { storage.withLock { $0.append(line) } }
}

/// The file and console exporters never wait on OTLP; queue-full drops are logged when they start.
final class ExporterIndependenceTests: XCTestCase {
    func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spans-\(UUID().uuidString).jsonl").path
    }

    /// A collector that accepts and never answers must not hold back the file: every span is in
    /// the file within a bound, while the OTLP export is still hanging on its first batch.
    func testFileGetsEverySpanWhileTheCollectorNeverAnswers() async throws {
        let blackhole = try FixtureServer(script: "http_server.py", args: ["{port}", "--blackhole"])
        defer { blackhole.stop() }
        let path = temporaryFile()
        let lines = DiagnosticLines()
        let telemetry = try DaemonTelemetry(
            exporter: ExporterSettings(endpoint: blackhole.baseURL, file: path),
            environment: ["OTEL_BSP_SCHEDULE_DELAY": "100"], diagnostics: { lines.add("\($0)") })
        telemetry.start()
        // More spans than one queue holds (2048), in waves, as probes would make them.
        let total = 3_000
        for wave in 0..<6 {
            for i in 0..<(total / 6) { telemetry.tracer.startSpan("span-\(wave)-\(i)", root: true).end() }
            try await Task.sleep(for: .milliseconds(150))
        }
        let deadline = ContinuousClock.now + .seconds(3)
        while fileSpans(path).count < total, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        XCTAssertEqual(fileSpans(path).count, total, "every span reaches the file within 3 s; log: \(lines.lines)")
        await telemetry.shutdown(deadline: .now + .seconds(1))
    }

    /// A dead collector fills the OTLP queue: the first drops are logged at once, with a count,
    /// not only in the shutdown summary.
    func testQueueFullDropsAreLoggedWhenTheyStart() async throws {
        let blackhole = try FixtureServer(script: "http_server.py", args: ["{port}", "--blackhole"])
        defer { blackhole.stop() }
        let lines = DiagnosticLines()
        let telemetry = try DaemonTelemetry(
            exporter: ExporterSettings(endpoint: blackhole.baseURL),
            environment: ["OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_BSP_MAX_QUEUE_SIZE": "100",
                          "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "50"],
            diagnostics: { lines.add("\($0)") })
        telemetry.start()
        for i in 0..<500 { telemetry.tracer.startSpan("span-\(i)", root: true).end() }
        let deadline = ContinuousClock.now + .seconds(3)
        func dropLines() -> [String] { lines.lines.filter { $0.contains("queue") && $0.contains("full") } }
        while dropLines().isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let first = try XCTUnwrap(dropLines().first, "no queue-full line within 3 s; log: \(lines.lines)")
        XCTAssertTrue(first.contains("dropped"), first)
        XCTAssertTrue(first.contains("otlp"), "names the exporter whose queue is full: \(first)")
        // More drops within the minute add no line.
        for i in 0..<500 { telemetry.tracer.startSpan("more-\(i)", root: true).end() }
        try await Task.sleep(for: .milliseconds(1500))
        XCTAssertEqual(dropLines().count, 1, "\(dropLines())")
        await telemetry.shutdown(deadline: .now + .milliseconds(500))
    }

    /// The queue-drop lines: the start with a count, nothing while it only lacks new spans, and the
    /// end with the total once the queue has room again.
    func testQueueDropWatchReportsStartAndEndWithTotals() async throws {
        struct SlowExporter: SpanExporter {
            func export(_ batch: [SpanData]) async -> ExportResult {
                try? await Task.sleep(for: .milliseconds(300))
                return .success
            }
        }
        let processor = BatchSpanProcessor(exporter: SlowExporter(), config: BatchConfig(
            scheduleDelay: .milliseconds(10), maxQueueSize: 10, maxExportBatchSize: 10))
        let lines = DiagnosticLines()
        let watch = QueueDropWatch(queues: [SpanExportQueue(name: "slow", processor: processor)], diagnostics: { lines.add("\($0)") })
        for _ in 0..<15 { processor.onEnd(makeSpanData()) }
        try await Task.sleep(for: .milliseconds(50))
        for _ in 0..<25 { processor.onEnd(makeSpanData()) }
        watch.check()
        XCTAssertEqual(lines.lines.count, 1, "\(lines.lines)")
        XCTAssertTrue(lines.lines[0].hasPrefix("warning: span queue of the slow exporter failing: full at 10 spans"), lines.lines[0])
        let dropped = processor.stats.spansDropped
        XCTAssertTrue(lines.lines[0].hasSuffix("; \(dropped) new spans dropped"), lines.lines[0])
        watch.check()  // still full, no new drops: not over yet
        XCTAssertEqual(lines.lines.count, 1, "\(lines.lines)")
        let drained = ContinuousClock.now + .seconds(5)
        while processor.stats.queueSize > 0, ContinuousClock.now < drained { try await Task.sleep(for: .milliseconds(20)) }
        watch.check()
        XCTAssertEqual(lines.lines.count, 2, "\(lines.lines)")
        XCTAssertTrue(lines.lines[1].hasPrefix("notice: span queue of the slow exporter recovered after "), lines.lines[1])
        XCTAssertTrue(lines.lines[1].hasSuffix(": \(dropped) spans dropped"), lines.lines[1])
        await processor.shutdown(deadline: .now + .seconds(1))
    }

    func makeSpanData() -> SpanData {
        SpanData(context: SpanContext(traceID: .random(), spanID: .random()), parentSpanID: nil, name: "s",
                 startTimeUnixNano: 1, endTimeUnixNano: 2, scope: .test)
    }
}

/// The same with the real daemon: probes' spans reach `exporter.file` while the collector hangs.
final class DaemonExporterIndependenceTests: XCTestCase {
    func testDaemonFileGetsEveryProbeSpanWhileTheCollectorNeverAnswers() async throws {
        let blackhole = try FixtureServer(script: "http_server.py", args: ["{port}", "--blackhole"])
        defer { blackhole.stop() }
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spans-\(UUID().uuidString).jsonl").path
        let config = """
            admin:
              listen: {admin}
            log_level: info
            defaults:
              interval: 300ms
              timeout: 250ms
            exporter:
              endpoint: \(blackhole.baseURL)
              file: \(path)
            targets:
              - name: json
                url: \(mcp.baseURL)/mcp
            """
        let agent = try RunningAgent(config: config, environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        func traceIDs() -> Set<String> { Set(fileSpans(path).compactMap { $0["traceId"] as? String }) }
        // Each probe's trace is in the file within 2 s of the probe (the OTLP export is hung for 10 s).
        for _ in 0..<3 {
            let status = try await agent.status()
            let traceID = try XCTUnwrap(status["json"]?["last_trace_id"] as? String)
            try await agent.waitFor("trace \(traceID) in the file", timeout: 2) { traceIDs().contains(traceID) }
            try await Task.sleep(for: .milliseconds(700))
        }
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), "agent did not stop:\n\(agent.log)")
        let posts = (try await fetchJSON(mcp.baseURL + "/_test/requests") as? [[String: Any]] ?? [])
            .filter { $0["method"] as? String == "POST" }.count
        let roots = fileSpans(path).filter { $0["name"] as? String == "probe" }.count
        XCTAssertGreaterThan(posts, 3)
        XCTAssertEqual(roots, posts, "every probe's root span is in the file; log:\n\(agent.log.suffix(3000))")
    }

    /// A collector outage (503 for a while, then accepted) is one warning when it starts, no line
    /// per batch while it lasts, and a recovery line with the totals.
    func testCollectorOutageLogsFirstFailureOnceThenRecoveryWithTotals() async throws {
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let outage = Array(repeating: ["status": 503], count: 6)
        let body = try JSONSerialization.data(withJSONObject: outage)
        _ = try await HTTPClient.shared.execute(HTTPRequest(method: "POST", url: receiver.baseURL + "/_script", body: Array(body)))
        let config = """
            admin:
              listen: {admin}
            log_level: info
            defaults:
              interval: 300ms
              timeout: 250ms
            exporter:
              endpoint: \(receiver.baseURL)
            targets:
              - name: json
                url: \(mcp.baseURL)/mcp
            """
        let agent = try RunningAgent(config: config, environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        try await agent.waitFor("the recovery line", timeout: 30) { agent.log.contains("recovered") }
        try await Task.sleep(for: .milliseconds(1000))
        let exportLines = agent.log.split(separator: "\n").filter { $0.contains("OTLP traces export") }
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), "agent did not stop:\n\(agent.log)")
        let failing = exportLines.filter { $0.contains("HTTP 503") && !$0.contains("recovered") }
        XCTAssertEqual(failing.count, 1, "the first failure once, no line per batch:\n\(exportLines.joined(separator: "\n"))")
        XCTAssertTrue(failing.first?.contains("warning") == true, "\(failing)")
        let recovery = try XCTUnwrap(exportLines.first { $0.contains("recovered") }, agent.log)
        XCTAssertTrue(recovery.contains("6 failed attempts"), String(recovery))
        XCTAssertTrue(recovery.contains("retries"), String(recovery))
        XCTAssertEqual(exportLines.count, 2, exportLines.joined(separator: "\n"))
    }
}
