import Foundation
import HTTPClient
import Synchronization
import Testing
import Tracing
@testable import OTLPExporter

/// Retry timing, deadlines, serialisation and shutdown with an injected clock and transport.
@Suite struct PipelineTests {
    static func exporter(_ transport: FakeTransport, clock: FakeClock, timeout: Duration? = .seconds(10),
                         retry: RetryPolicy = RetryPolicy(base: .seconds(1), cap: .seconds(30), jitter: { $0 }),
                         log: LogCapture = LogCapture()) -> OTLPHTTPSpanExporter {
        OTLPHTTPSpanExporter(config: config(.traces, endpoint: "http://collector.invalid/v1/traces", timeout: timeout),
                             transport: transport, retryPolicy: retry, clock: clock.exportClock, diagnostics: log.sink)
    }

    @Test func backoffDoublesUpToTheCap() async {
        let clock = FakeClock()
        let transport = FakeTransport(Array(repeating: .status(503), count: 6), clock: clock)
        let e = Self.exporter(transport, clock: clock, timeout: .seconds(120),
                              retry: RetryPolicy(base: .seconds(1), cap: .seconds(5), jitter: { $0 }))
        #expect(await e.export(Sample.spans(2)) == .success)
        #expect(clock.sleeps == [1, 2, 4, 5, 5, 5].map { Duration.seconds($0) })
        #expect(transport.requests.count == 7 && e.stats.retries == 6)
    }

    @Test func retriesStopAtTheDeadline() async {
        let clock = FakeClock()
        let transport = FakeTransport(Array(repeating: .error(.connectionRefused), count: 20), clock: clock)
        let e = Self.exporter(transport, clock: clock, timeout: .seconds(10))
        #expect(await e.export(Sample.spans(2)) == .failure)
        // 1 + 2 + 4 = 7 s slept; the next 8 s would pass the 10 s deadline.
        #expect(clock.sleeps == [1, 2, 4].map { Duration.seconds($0) })
        #expect(e.stats.droppedRetryExhausted == 2 && e.stats.retries == 3)
    }

    @Test func fullJitterStaysUnderTheCeiling() async {
        let clock = FakeClock()
        let transport = FakeTransport(Array(repeating: .status(429), count: 5), clock: clock)
        let e = Self.exporter(transport, clock: clock, timeout: .seconds(300),
                              retry: RetryPolicy(base: .seconds(1), cap: .seconds(30)))
        #expect(await e.export(Sample.spans(1)) == .success)
        let ceilings = [1, 2, 4, 8, 16].map { Duration.seconds($0) }
        #expect(zip(clock.sleeps, ceilings).allSatisfy { $0 >= .zero && $0 <= $1 })
    }

    @Test func retryAfterBeatsBackoffAndSlowRequestsSpendTheDeadline() async {
        let clock = FakeClock()
        let transport = FakeTransport([
            .status(503, headers: [HTTPHeader("Retry-After", "3")]), .slow(.seconds(6)), .status(503),
        ], clock: clock)
        let e = Self.exporter(transport, clock: clock, timeout: .seconds(10))
        // 3 s Retry-After + a 6 s request leave 1 s: the 2nd backoff ceiling (2 s) no longer fits.
        #expect(await e.export(Sample.spans(1)) == .success)  // the slow request answered 200
        #expect(clock.sleeps == [.seconds(3)])
        let t2 = FakeTransport([.status(503, headers: [HTTPHeader("Retry-After", "3")]), .error(.timeout), .status(200)], clock: clock)
        let e2 = Self.exporter(t2, clock: clock, timeout: .seconds(4))
        #expect(await e2.export(Sample.spans(1)) == .failure)  // 3 s + 1 s backoff = deadline
        #expect(e2.stats.droppedRetryExhausted == 1)
    }

    @Test func noTimeoutStillBoundsAttempts() async {
        let clock = FakeClock()
        let transport = FakeTransport(Array(repeating: .status(503), count: 50), clock: clock)
        let e = Self.exporter(transport, clock: clock, timeout: nil,
                              retry: RetryPolicy(base: .milliseconds(1), cap: .milliseconds(1), maxAttempts: 4, jitter: { $0 }))
        #expect(await e.export(Sample.spans(1)) == .failure)
        #expect(transport.requests.count == 4)
        #expect(transport.requests[0].timeout == .milliseconds(Int64(Int32.max)))
    }

    @Test func requestTimeoutIsTheRemainingDeadline() async {
        let clock = FakeClock()
        let transport = FakeTransport([.status(503), .status(200)], clock: clock)
        let e = Self.exporter(transport, clock: clock, timeout: .seconds(10))
        #expect(await e.export(Sample.spans(1)) == .success)
        #expect(transport.requests.map(\.timeout) == [.seconds(10), .seconds(9)])
        #expect(transport.requests[0].maxResponseBodyBytes == 4 << 20)
    }

    @Test func oneExportInFlightAtATime() async {
        let transport = FakeTransport([], realDelay: .milliseconds(20))
        let e = OTLPHTTPSpanExporter(config: config(.traces, endpoint: "http://collector.invalid/v1/traces"),
                                     transport: transport)
        await withTaskGroup(of: ExportResult.self) { group in
            for i in 0..<8 { group.addTask { await e.export([Sample.span("s\(i)")]) } }
            for await result in group { #expect(result == .success) }
        }
        #expect(transport.requests.count == 8 && transport.maxInFlight == 1)
        #expect(e.stats.exported == 8)
    }

    @Test func shutdownCutsRetriesAtItsDeadlineAndRefusesLaterExports() async {
        let transport = FakeTransport(Array(repeating: .status(503), count: 100))
        let log = LogCapture()
        let e = OTLPHTTPSpanExporter(config: config(.traces, endpoint: "http://collector.invalid/v1/traces", timeout: .seconds(60)),
                                     transport: transport, retryPolicy: RetryPolicy(base: .seconds(20), cap: .seconds(20), jitter: { $0 }),
                                     diagnostics: log.sink)
        let export = Task { await e.export(Sample.spans(5)) }
        try? await Task.sleep(for: .milliseconds(100))  // now sleeping 20 s before its retry
        let start = ContinuousClock.now
        await e.shutdown(deadline: .now + .milliseconds(300))
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(log.lines.last?.contains("shut down") == true && log.lines.last?.contains("not delivered: 5") == true,
                "\(log.lines.last ?? "")")
        #expect(await export.value == .failure)
        #expect(await e.export(Sample.spans(2)) == .failure)
        let s = e.stats
        #expect(s.droppedAtShutdown == 7 && s.exported == 0)
    }

    @Test func callerCancellationEndsTheRetriesPromptly() async {
        let transport = FakeTransport(Array(repeating: .status(503), count: 100))
        let e = OTLPHTTPSpanExporter(config: config(.traces, endpoint: "http://collector.invalid/v1/traces", timeout: .seconds(60)),
                                     transport: transport, retryPolicy: RetryPolicy(base: .seconds(20), cap: .seconds(20), jitter: { $0 }))
        let export = Task { await e.export(Sample.spans(2)) }
        try? await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        export.cancel()
        #expect(await export.value == .failure)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(e.stats.droppedRetryExhausted == 2 && e.stats.droppedAtShutdown == 0)
        #expect(e.stats.lastError?.contains("cancelled by the caller") == true)
    }

    @Test func shutdownWaitsForAnExportThatFinishesInTime() async {
        let transport = FakeTransport([], realDelay: .milliseconds(200))
        let e = OTLPHTTPSpanExporter(config: config(.traces, endpoint: "http://collector.invalid/v1/traces"), transport: transport)
        let export = Task { await e.export(Sample.spans(3)) }
        try? await Task.sleep(for: .milliseconds(50))
        await e.shutdown(deadline: .now + .seconds(5))
        #expect(await export.value == .success)
        #expect(e.stats.exported == 3 && e.stats.dropped == 0)
    }

    @Test func failuresAreRateLimited() async {
        let clock = FakeClock()
        let log = LogCapture()
        let transport = FakeTransport(Array(repeating: .status(400), count: 10), clock: clock)
        let e = Self.exporter(transport, clock: clock, log: log)
        for _ in 0..<5 { _ = await e.export(Sample.spans(1)) }
        #expect(log.lines(atLeast: .warning).count == 1)  // the first failure
        clock.advance(.seconds(61))
        _ = await e.export(Sample.spans(1))
        let warnings = log.lines(atLeast: .warning)
        #expect(warnings.count == 2)
        #expect(warnings.last?.contains("still failing after 1m01s: 6 failed attempts, 6 failed batches, 6 spans dropped") == true, "\(warnings)")
        #expect(e.stats.droppedNonRetryable == 6 && e.stats.failures == 6)
        // Every attempt is a debug line: signal, items, bytes, result, duration.
        let attempts = log.entries.filter { $0.level == .debug }.map(\.message)
        #expect(attempts.count == 6)
        #expect(attempts.first?.hasPrefix("OTLP traces export attempt 1: 1 spans, ") == true, "\(attempts)")
        #expect(attempts.first?.contains(" bytes, HTTP 400, ") == true, "\(attempts)")
    }

    @Test func headersOfTheRequest() async throws {
        let transport = FakeTransport([])
        var c = config(.metrics, endpoint: "http://collector.invalid/v1/metrics", protocol: .httpJSON, compression: .gzip)
        c.headers = [HTTPHeader("X-Scope-OrgID", "tenant-1"), HTTPHeader("Content-Type", "text/plain")]
        let e = OTLPHTTPMetricExporter(config: c, transport: transport)
        #expect(await e.export(ConformanceTests.metrics) == .success)
        let request = try #require(transport.requests.first)
        #expect(request.method == "POST" && request.url == "http://collector.invalid/v1/metrics")
        #expect(request.headers.values("Content-Type") == ["application/json"])
        #expect(request.headers["Content-Encoding"] == "gzip")
        #expect(request.headers["X-Scope-OrgID"] == "tenant-1")
        let json = try Gzip.decompress(request.body ?? [])
        #expect(String(decoding: json, as: UTF8.self).hasPrefix(#"{"resourceMetrics":[{"resource":"#))
    }
}
