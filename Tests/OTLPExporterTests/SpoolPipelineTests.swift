import Foundation
import HTTPClient
import Testing
import TestSupport
import Tracing
@testable import OTLPExporter

/// The export pipeline with a spool, against the real receiver (official protos): what the
/// collector does not take now is kept on disk and replayed, oldest first, once it answers.
@Suite(.serialized) struct SpoolPipelineTests {
    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
    }

    static func exporter(port: Int, spool: Spool?, timeout: Duration = .seconds(2), log: LogCapture = LogCapture())
        -> OTLPHTTPSpanExporter {
        OTLPHTTPSpanExporter(config: config(.traces, endpoint: "http://127.0.0.1:\(port)/v1/traces", compression: .gzip,
                                            timeout: timeout),
                             transport: HTTPClient.shared, retryPolicy: quickRetry, spool: spool, diagnostics: log.sink)
    }

    /// Spans of `batch` with ids that say which batch and which span they are.
    static func spans(batch: Int, count: Int = 10) -> [SpanData] {
        (0..<count).map { Sample.span("b\(batch)-s\($0)", id: UInt64(batch * 1000 + $0 + 1)) }
    }

    static func receivedSpanNames(_ receiver: Receiver, path: String = "/v1/traces") async throws -> [String] {
        try await receiver.received().filter { ($0["path"] as? String) == path }.flatMap { record -> [String] in
            let decoded = record["decoded"] as? [String: Any] ?? [:]
            return (decoded["resourceSpans"] as? [[String: Any]] ?? []).flatMap { rs in
                (rs["scopeSpans"] as? [[String: Any]] ?? []).flatMap { ss in
                    (ss["spans"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                }
            }
        }
    }

    static func waitFor(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func collectorDownThenBackEverySpanArrivesOnce() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freeLoopbackPort()
        let spool = Spool(config: SpoolConfig(directory: dir))
        let log = LogCapture()
        let exporter = Self.exporter(port: port, spool: spool, log: log)
        let start = ContinuousClock.now
        for batch in 0..<5 { #expect(await exporter.export(Self.spans(batch: batch)) == .success) }
        #expect(ContinuousClock.now - start < .seconds(2), "nothing waits on the dead collector: kept in the spool")
        #expect(exporter.stats.spooled == 50 && exporter.stats.dropped == 0 && exporter.stats.exported == 0)
        #expect(spool.stats.items == [.traces: 50])

        let receiver = try Receiver(port: port)
        try await Self.waitFor("the backlog") { try await Self.receivedSpanNames(receiver).count >= 50 }
        let names = try await Self.receivedSpanNames(receiver)
        #expect(names == (0..<5).flatMap { b in (0..<10).map { "b\(b)-s\($0)" } }, "all of them, once, oldest first")
        try await Self.waitFor("the spool to empty") { spool.stats.records.isEmpty }
        #expect(exporter.stats.replayed == 50 && exporter.stats.exported == 50)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".seg") }.isEmpty)
        // Fresh data goes straight to the collector again.
        #expect(await exporter.export(Self.spans(batch: 9)) == .success)
        #expect(exporter.stats.spooled == 50 && exporter.stats.exported == 60)
        let lines = log.lines(atLeast: .notice)
        #expect(lines.first?.contains("failing") == true && lines.first?.contains("kept in the spool") == true, "\(lines)")
        #expect(lines.last?.contains("recovered") == true && lines.last?.contains("50 spans spooled") == true, "\(lines)")
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }

    @Test func a503IsSpooledAndReplayedHonouringRetryAfter() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try Receiver()
        try await receiver.script([["status": 503], ["status": 503, "headers": ["Retry-After": "1"]]])
        let spool = Spool(config: SpoolConfig(directory: dir))
        let exporter = Self.exporter(port: receiver.server.port, spool: spool)
        #expect(await exporter.export(Self.spans(batch: 1)) == .success)
        #expect(exporter.stats.spooled == 10)
        try await Self.waitFor("the replay") { exporter.stats.replayed == 10 }
        let times = try await receiver.received().compactMap { $0["time"] as? Double }
        #expect(times.count == 3)
        #expect(times[2] - times[1] >= 0.95, "Retry-After 1 s between the 2nd and 3rd POST: \(times)")
        #expect(try await Self.receivedSpanNames(receiver).count == 30, "10 spans, posted three times, accepted once")
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }

    @Test func freshDataIsNotStarvedWhileTheBacklogDrains() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freeLoopbackPort()
        await Self.spooledByAnEarlierRun(dir, port: port, batches: 30, spans: 2)
        let receiver = try Receiver(port: port)
        // Every POST takes 100 ms: the backlog needs 3 s.
        try await receiver.script(Array(repeating: ["delay": 0.1], count: 100))
        let spool = Spool(config: SpoolConfig(directory: dir))
        #expect(spool.stats.records == [.traces: 30])
        let exporter = Self.exporter(port: port, spool: spool)
        try await Self.waitFor("replay to start") { exporter.stats.replayed > 0 }
        let fresh = ContinuousClock.now
        #expect(await exporter.export(Self.spans(batch: 99, count: 2)) == .success)
        #expect(ContinuousClock.now - fresh < .seconds(1), "a fresh export waits for one POST, not for the backlog")
        #expect(spool.stats.records[.traces] ?? 0 > 0, "the backlog is still draining")
        try await Self.waitFor("the backlog") { spool.stats.records.isEmpty }
        let names = try await Self.receivedSpanNames(receiver)
        #expect(names.count == 62 && Set(names).count == 62)
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }

    /// `batches` of 10 spans spooled by an earlier run whose collector was down: the records a
    /// new exporter replays at once, so a receiver can be scripted before any of them arrives.
    static func spooledByAnEarlierRun(_ dir: String, port: Int, batches: Int, spans: Int = 10) async {
        let spool = Spool(config: SpoolConfig(directory: dir))
        let exporter = Self.exporter(port: port, spool: spool)
        for batch in 0..<batches { _ = await exporter.export(Self.spans(batch: batch, count: spans)) }
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }

    @Test func aSpooledRequestRejectedForGoodLeavesTheSpoolCounted() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freeLoopbackPort()
        await Self.spooledByAnEarlierRun(dir, port: port, batches: 3)
        let receiver = try Receiver(port: port)
        try await receiver.script([["status": 400, "rpc_message": "bad data"]])
        let spool = Spool(config: SpoolConfig(directory: dir))
        let exporter = Self.exporter(port: port, spool: spool)
        try await Self.waitFor("the backlog") { spool.stats.records.isEmpty }
        #expect(exporter.stats.droppedNonRetryable == 10 && exporter.stats.replayed == 20)
        #expect(exporter.stats.lastError?.contains("spooled request: HTTP 400: bad data") == true, "\(exporter.stats)")
        #expect(try await Self.receivedSpanNames(receiver).filter { $0.hasPrefix("b0-") }.count == 10, "the rejected one was sent once")
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }

    @Test func aPartialSuccessOfAReplayedRequestCountsOnlyTheAcceptedAsReplayed() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freeLoopbackPort()
        await Self.spooledByAnEarlierRun(dir, port: port, batches: 1)
        let receiver = try Receiver(port: port)
        try await receiver.script([["partial": ["rejected": 3, "message": "3 too old"]]])
        let spool = Spool(config: SpoolConfig(directory: dir))
        let exporter = Self.exporter(port: port, spool: spool)
        try await Self.waitFor("the backlog") { spool.stats.records.isEmpty }
        #expect(exporter.stats.replayed == 7 && exporter.stats.rejectedPartial == 3 && exporter.stats.exported == 7)
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }

    @Test func metricsAreSpooledAndReplayedToo() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freeLoopbackPort()
        let spool = Spool(config: SpoolConfig(directory: dir))
        let exporter = OTLPHTTPMetricExporter(config: config(.metrics, endpoint: "http://127.0.0.1:\(port)/v1/metrics"),
                                              transport: HTTPClient.shared, retryPolicy: quickRetry, spool: spool)
        let metrics = [MetricData(name: "spooled.gauge", scope: InstrumentationScope(name: "probe-agent"), points: .gauge([
            NumberDataPoint(attributes: [], startTimeUnixNano: 0, timeUnixNano: 1_700_000_000_000_000_000, value: .int(7)),
        ]))]
        #expect(await exporter.export(metrics) == .success)
        #expect(spool.stats.records == [.metrics: 1] && exporter.stats.spooled == 1)
        let receiver = try Receiver(port: port)
        try await Self.waitFor("the metric") { exporter.stats.replayed == 1 }
        let record = try #require(try await receiver.received().first)
        #expect(record["path"] as? String == "/v1/metrics")
        #expect(canon(record["decoded"]).contains("spooled.gauge"))
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }

    @Test func whatIsSpooledAtShutdownIsReplayedByTheNextRun() async throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freeLoopbackPort()
        var spool = Spool(config: SpoolConfig(directory: dir))
        var exporter = Self.exporter(port: port, spool: spool)
        for batch in 0..<2 { _ = await exporter.export(Self.spans(batch: batch)) }
        let stopping = ContinuousClock.now
        await exporter.shutdown(deadline: .now + .seconds(2))
        #expect(ContinuousClock.now - stopping < .seconds(1), "shutdown does not wait for the dead collector")
        spool.close()

        let receiver = try Receiver(port: port)
        spool = Spool(config: SpoolConfig(directory: dir))
        exporter = Self.exporter(port: port, spool: spool)
        try await Self.waitFor("the earlier run's spans") { try await Self.receivedSpanNames(receiver).count == 20 }
        #expect(exporter.stats.replayed == 20)
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }

    @Test func anUnwritableSpoolFallsBackToRetriesInMemory() async throws {
        let parent = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try Data().write(to: URL(fileURLWithPath: parent))
        let spool = Spool(config: SpoolConfig(directory: parent + "/spool"))
        let port = try freeLoopbackPort()
        let exporter = Self.exporter(port: port, spool: spool, timeout: .milliseconds(500))
        #expect(await exporter.export(Self.spans(batch: 1)) == .failure)
        #expect(exporter.stats.droppedRetryExhausted == 10 && exporter.stats.spooled == 0)
        #expect(exporter.stats.retries > 0, "retried in memory as without a spool")
        await exporter.shutdown(deadline: .now + .seconds(1))
        spool.close()
    }
}
