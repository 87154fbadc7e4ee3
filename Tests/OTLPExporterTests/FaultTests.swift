import Foundation
import HTTPClient
import TestSupport
import Testing
import Tracing
@testable import OTLPExporter

/// Faults played by the scripted receiver, through the real HTTP client. Serialized: they assert
/// timings, which a 2-core machine busy starting two dozen receivers would blur.
@Suite(.serialized) struct FaultTests {
    struct Run {
        let exporter: OTLPHTTPSpanExporter
        let log: LogCapture
        let result: ExportResult
        let records: [[String: Any]]
        let elapsed: Duration
        var times: [Double] { records.compactMap { $0["time"] as? Double } }
        /// Seconds between the first and second attempt.
        var firstGap: Double { times.count > 1 ? times[1] - times[0] : -1 }
    }

    static func run(_ script: @autoclosure () -> [[String: Any]], spans: Int = 3, timeout: Duration? = .seconds(5),
                    retry: RetryPolicy = quickRetry, proto: OTLPProtocol = .httpProtobuf,
                    configure: (inout SignalConfig) -> Void = { _ in }) async throws -> Run {
        let receiver = try Receiver()
        try await receiver.script(script())
        var c = config(.traces, endpoint: receiver.tracesURL, protocol: proto, timeout: timeout)
        configure(&c)
        let log = LogCapture()
        let exporter = OTLPHTTPSpanExporter(config: c, transport: HTTPClient.shared, retryPolicy: retry, diagnostics: log.sink)
        let start = ContinuousClock.now
        let result = await exporter.export(Sample.spans(spans))
        let elapsed = ContinuousClock.now - start
        return Run(exporter: exporter, log: log, result: result, records: try await receiver.received(), elapsed: elapsed)
    }

    @Test func tooManyRequestsWithRetryAfterSeconds() async throws {
        let r = try await Self.run([["status": 429, "headers": ["Retry-After": "1"]]])
        #expect(r.result == .success)
        #expect(r.records.count == 2)
        #expect(r.firstGap >= 0.95 && r.firstGap < 2.5, "gap \(r.firstGap)")
        #expect(r.exporter.stats.retries == 1 && r.exporter.stats.exported == 3 && r.exporter.stats.dropped == 0)
    }

    @Test func serviceUnavailableWithRetryAfterHTTPDate() async throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        // Formatted when the receiver is up, 3 s ahead: whole-second resolution puts it 2-3 s out.
        let r = try await Self.run([["status": 503, "headers": ["Retry-After": formatter.string(from: Date().addingTimeInterval(3))]]])
        #expect(r.result == .success)
        #expect(r.records.count == 2)
        #expect(r.firstGap >= 1.5 && r.firstGap < 4, "gap \(r.firstGap)")  // far above the 20 ms test backoff
        #expect(r.exporter.stats.retries == 1 && r.exporter.stats.exported == 3)
    }

    @Test func serviceUnavailableThenSuccessIsRetriedWithBackoff() async throws {
        let r = try await Self.run([["status": 503], ["status": 502], ["status": 504]])
        #expect(r.result == .success)
        #expect(r.records.count == 4)
        #expect(r.exporter.stats.retries == 3 && r.exporter.stats.exported == 3 && r.exporter.stats.failures == 0)
        #expect(r.elapsed < .seconds(2))  // 20 ms base, full jitter
        // The same request each time.
        #expect(Set(r.records.compactMap { ($0["decoded"] as? [String: Any]).map { canon($0) } }).count == 1)
    }

    @Test(arguments: [400, 401, 404, 413, 500])
    func nonRetryableStatusIsDroppedAndCounted(status: Int) async throws {
        let r = try await Self.run([["status": status, "rpc_message": "rejected because reasons"]])
        #expect(r.result == .failure)
        #expect(r.records.count == 1)
        let s = r.exporter.stats
        #expect(s.droppedNonRetryable == 3 && s.retries == 0 && s.exported == 0 && s.failures == 1)
        #expect(s.lastError?.contains("HTTP \(status)") == true)
        #expect(r.log.text.contains("rejected because reasons"))  // google.rpc.Status.message is logged
    }

    @Test func jsonErrorBodyMessageIsLogged() async throws {
        let r = try await Self.run([["status": 400, "rpc_message": "invalid length for ID"]], proto: .httpJSON)
        #expect(r.result == .failure)
        #expect(r.log.text.contains("invalid length for ID"))
    }

    @Test(arguments: [OTLPProtocol.httpProtobuf, .httpJSON])
    func partialSuccessIsCountedNotRetried(proto: OTLPProtocol) async throws {
        let r = try await Self.run([["partial": ["rejected": 2, "message": "2 spans too old"]]], spans: 5, proto: proto)
        #expect(r.result == .success)
        #expect(r.records.count == 1)
        let s = r.exporter.stats
        #expect(s.rejectedPartial == 2 && s.exported == 3 && s.retries == 0)
        #expect(r.log.text.contains("2 spans too old"))
    }

    @Test func partialSuccessWarningOnlyIsSuccess() async throws {
        let r = try await Self.run([["partial": ["rejected": 0, "message": "heads up"]]])
        #expect(r.result == .success && r.exporter.stats.exported == 3 && r.exporter.stats.rejectedPartial == 0)
        #expect(r.log.text.contains("heads up"))
    }

    @Test func slowReplyPastTheTimeoutIsDropped() async throws {
        let r = try await Self.run([["delay": 3, "status": 200]], timeout: .milliseconds(600))
        #expect(r.result == .failure)
        #expect(r.records.count == 1)
        #expect(r.elapsed < .milliseconds(1500), "\(r.elapsed)")  // bounded by the export deadline
        #expect(r.exporter.stats.droppedRetryExhausted == 3)
        #expect(r.exporter.stats.lastError?.contains("timeout") == true)
    }

    /// libcurl itself resends once when a reused connection dies before any answer; a second reset
    /// (on a fresh connection) reaches the exporter, which retries it.
    @Test func connectionResetIsRetried() async throws {
        let r = try await Self.run([["reset": true], ["reset": true]])
        #expect(r.result == .success)
        #expect(r.records.count == 3)
        #expect((1...2).contains(r.exporter.stats.retries) && r.exporter.stats.exported == 3, "\(r.exporter.stats)")
    }

    @Test func hugeResponseIsCappedAndNotRetried() async throws {
        let r = try await Self.run([["status": 200, "huge": 10 << 20]])
        #expect(r.result == .failure)
        #expect(r.records.count == 1)
        #expect(r.exporter.stats.droppedNonRetryable == 3 && r.exporter.stats.retries == 0)
        #expect(r.exporter.stats.lastError?.contains("response") == true)
    }

    @Test func retryAfterPastTheDeadlineDropsAtOnce() async throws {
        let r = try await Self.run([["status": 429, "headers": ["Retry-After": "30"]]], timeout: .seconds(3))
        #expect(r.result == .failure)
        #expect(r.records.count == 1)
        #expect(r.elapsed < .seconds(1))
        #expect(r.exporter.stats.droppedRetryExhausted == 3 && r.exporter.stats.retries == 0)
    }

    @Test func connectionRefusedIsRetriedWithinTheDeadlineThenDropped() async throws {
        let port = try freeLoopbackPort()
        let log = LogCapture()
        let exporter = OTLPHTTPSpanExporter(config: config(.traces, endpoint: "http://127.0.0.1:\(port)/v1/traces",
                                                           timeout: .seconds(1)),
                                            transport: HTTPClient.shared,
                                            // Attempts unbounded here, so the 1 s deadline is what stops the retries
                                            // (with the default 10 attempts, short jittered sleeps could end earlier).
                                            retryPolicy: RetryPolicy(base: .milliseconds(50), cap: .milliseconds(200), maxAttempts: 10_000),
                                            diagnostics: log.sink)
        let start = ContinuousClock.now
        #expect(await exporter.export(Sample.spans(4)) == .failure)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(500) && elapsed < .milliseconds(2500), "\(elapsed)")  // bounded by the 1 s deadline
        let s = exporter.stats
        #expect(s.retries >= 3, "retries \(s.retries)")
        #expect(s.droppedRetryExhausted == 4 && s.exported == 0 && s.failures == 1)
        #expect(s.lastError?.contains("connection_refused") == true)
        #expect(log.lines(atLeast: .warning).count == 1, "one failure line: \(log.lines)")
    }

    @Test func oversizedRequestsAreSplitAndSingleGiantsDropped() async throws {
        let receiver = try Receiver()
        var c = config(.traces, endpoint: receiver.tracesURL)
        c.maxRequestBytes = 2_000
        let exporter = OTLPHTTPSpanExporter(config: c)
        var spans = Sample.spans(40)
        spans.append(Sample.span("giant", attributes: [Attribute("blob", .string(String(repeating: "x", count: 5_000)))]))
        #expect(await exporter.export(spans) == .failure)
        let records = try await receiver.received()
        #expect(records.count > 2)
        #expect(records.allSatisfy { ($0["size"] as? Int ?? .max) <= 2_000 })
        let delivered = records.reduce(0) { total, record in
            let rs = (record["decoded"] as? [String: Any])?["resourceSpans"] as? [[String: Any]] ?? []
            let ss = rs.first?["scopeSpans"] as? [[String: Any]] ?? []
            return total + ((ss.first?["spans"] as? [Any])?.count ?? 0)
        }
        #expect(delivered == 40)
        #expect(exporter.stats.exported == 40 && exporter.stats.droppedTooLarge == 1)
    }

    /// No secret from OTEL_EXPORTER_OTLP_HEADERS or the endpoint's userinfo reaches logs, stats or errors,
    /// even when the server echoes it back.
    @Test func secretsNeverLogged() async throws {
        let receiver = try Receiver()
        try await receiver.script([["status": 401, "rpc_message": "token Bearer s3cr3t is not valid for pa55word"]])
        let env = ["OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20s3cr3t,x-bad=%zz-s3cr3t",
                   "OTEL_EXPORTER_OTLP_ENDPOINT": "http://admin:pa55word@127.0.0.1:\(receiver.server.port)"]
        let log = LogCapture()
        let (configuration, warnings) = try TelemetryConfiguration.fromEnvironment(env)
        warnings.forEach { log.sink(Diagnostic(.warning, $0)) }
        let exporter = OTLPHTTPSpanExporter(config: configuration.traces.otlp, diagnostics: log.sink)
        #expect(await exporter.export(Sample.spans(1)) == .failure)
        await exporter.shutdown(deadline: .now + .seconds(1))
        let records = try await receiver.received()
        let sent = records.first?["headers"] as? [String: String] ?? [:]
        #expect(sent["authorization"] == "Bearer s3cr3t")  // it was sent...
        let surfaces = log.lines + [exporter.stats.lastError ?? "", "\(exporter.config)", "\(exporter.stats)"]
        for text in surfaces {  // ...and appears nowhere else
            #expect(!text.contains("s3cr3t") && !text.contains("pa55word"), "leaked in: \(text)")
        }
        #expect(log.text.contains("HTTP 401"))
        #expect(log.text.contains("REDACTED"))
    }
}
