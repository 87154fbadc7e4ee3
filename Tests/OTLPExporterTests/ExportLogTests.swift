import Foundation
import HTTPClient
import Testing
import Tracing
@testable import OTLPExporter

/// What the exporter logs while a collector is down: the first failure at once, at most one
/// summary a minute, the recovery with totals; never a line per batch.
@Suite struct ExportLogTests {
    static let endpoint = "http://127.0.0.1:9/v1/traces"

    /// Three attempts per export, one fake second apart.
    static func exporter(_ steps: [FakeTransport.Step], clock: FakeClock, log: LogCapture) -> OTLPHTTPSpanExporter {
        OTLPHTTPSpanExporter(config: config(.traces, endpoint: endpoint, timeout: .seconds(30)),
                             transport: FakeTransport(steps, clock: clock),
                             retryPolicy: RetryPolicy(base: .seconds(1), cap: .seconds(1), maxAttempts: 3, jitter: { $0 }),
                             clock: clock.exportClock, diagnostics: log.sink)
    }

    @Test func outageIsOneWarningThenOneSummaryAMinuteThenRecoveryWithTotals() async {
        let clock = FakeClock()
        let log = LogCapture()
        let exporter = Self.exporter(Array(repeating: .status(503), count: 18), clock: clock, log: log)
        for _ in 0..<3 { #expect(await exporter.export(Sample.spans(4)) == .failure) }
        var lines = log.lines(atLeast: .notice)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("HTTP 503") == true, "the reason: \(lines)")

        clock.advance(.seconds(61))
        for _ in 0..<3 { #expect(await exporter.export(Sample.spans(4)) == .failure) }
        lines = log.lines(atLeast: .notice)
        #expect(lines.count == 2, "one summary after a minute: \(lines)")
        #expect(lines.last?.contains("still failing") == true, "\(lines)")
        #expect(lines.last?.contains("3 failed batches, 12 spans dropped") == true, "the count so far: \(lines)")

        #expect(await exporter.export(Sample.spans(4)) == .success)
        lines = log.lines(atLeast: .notice)
        #expect(lines.count == 3, "\(lines)")
        let recovery = lines.last ?? ""
        #expect(recovery.contains("recovered after 1m"), "\(recovery)")
        #expect(recovery.contains("18 failed attempts") && recovery.contains("12 retries") && recovery.contains("6 failed batches, 24 spans dropped"),
                "\(recovery)")
    }

    @Test func levelsAndSecretsOfTheOutageLines() async {
        let clock = FakeClock()
        let log = LogCapture()
        let exporter = Self.exporter([.status(503), .status(503)], clock: clock, log: log)
        #expect(await exporter.export(Sample.spans(2)) == .success)  // third attempt goes through
        let lines = log.entries.filter { $0.level >= .notice }
        #expect(lines.map(\.level) == [.warning, .notice], "\(lines)")
        #expect(lines.first?.message == "OTLP traces export to \(Self.endpoint) failing: HTTP 503; retrying")
        #expect(lines.last?.message == "OTLP traces export to \(Self.endpoint) recovered after 2.0 s: 2 failed attempts, 2 retries, 0 spans dropped")
        #expect(log.entries.filter { $0.level == .debug }.count == 3, "one debug line per attempt")
        #expect(log.entries.contains { $0.level == .info && $0.message.hasPrefix("OTLP exporter traces:") }, "start-up line at info")
    }

    /// A collector that fails every other export is not a line per batch: after the first outage
    /// and its recovery, the flapping is quiet until a minute has passed, then one line sums it up.
    @Test func aFlappingCollectorIsAtMostOneLineAMinute() {
        let clock = FakeClock()
        let log = LogCapture()
        let outage = OutageLog(subject: "export", unit: "spans", sink: log.sink, now: clock.exportClock.now)
        outage.failure("HTTP 503", failedAttempts: 1, failedBatches: 1, dropped: 5)
        clock.advance(.seconds(1))
        outage.success()
        #expect(log.lines.count == 2)
        for _ in 0..<10 {
            clock.advance(.seconds(2))
            outage.failure("HTTP 502", failedAttempts: 1, failedBatches: 1, dropped: 5)
            clock.advance(.seconds(2))
            outage.success()
        }
        #expect(log.lines.count == 2, "quiet within the minute: \(log.lines)")
        clock.advance(.seconds(30))
        outage.success()
        #expect(log.lines.count == 3)
        #expect(log.lines.last == "notice: export recovered after 38.0 s: 10 failed attempts, 10 failed batches, 50 spans dropped; last error: HTTP 502",
                "\(log.lines)")
    }

    /// A file that cannot be written (here: a full disk) is reported like a failing collector.
    @Test func fileWriteFailuresAreLoggedOnce() async throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let log = LogCapture()
        let exporter = try OTLPFileExporter(path: "/dev/full", diagnostics: log.sink)
        for _ in 0..<3 { #expect(await exporter.export(Sample.spans(2)) == .failure) }
        let warnings = log.lines(atLeast: .warning)
        #expect(warnings.count == 1, "\(log.lines)")
        #expect(warnings.first?.hasPrefix("OTLP/JSON export to file /dev/full failing: write failed (") == true, "\(warnings)")
        #expect(log.entries.filter { $0.level == .debug }.count == 3, "one debug line per write")
    }
}
