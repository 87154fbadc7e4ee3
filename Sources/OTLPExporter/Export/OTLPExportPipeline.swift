import Foundation
import HTTPClient
import Synchronization
import Tracing

/// One signal's export path: encode, split under the request cap, compress, POST with retries
/// bounded by a deadline, read partial success, count everything. One export in flight at a time.
///
/// With a spool, a request the collector does not take now (a retryable failure) is appended to
/// it instead of being retried in memory, and while the collector is down fresh requests go
/// straight there; a replay task sends the spool's records back, oldest first, beside the fresh
/// exports, paced by the same backoff and `Retry-After` rules.
final class OTLPExportPipeline<Item: Sendable>: Sendable {
    let config: SignalConfig
    private let codec: SignalCodec<Item>
    private let transport: any OTLPTransport
    private let retry: RetryPolicy
    private let clock: ExportClock
    private let diagnostics: DiagnosticsSink
    private let outage: OutageLog
    private let scrubber: SecretScrubber
    private let baseRequest: HTTPRequest
    private let gate = ExportGate()
    private let spool: Spool?
    /// Rings the idle replay task when a record is appended.
    private let replayWake = WakeSignal()
    /// Rings a replay task in backoff when another signal's replay got through.
    private let recoveryWake = WakeSignal()
    /// Used only by the export holding the gate.
    private nonisolated(unsafe) let bodyBuilder: RequestBodyBuilder
    private let state = Mutex(State())

    private struct State {
        var stats = ExporterStats()
        var shutdownDeadline: ContinuousClock.Instant?
        var inFlight: Task<ExportResult, Never>?
        var warnedOnce = false
        /// The last attempt failed retryably: fresh requests go to the spool until one is taken.
        var collectorDown = false
        var replayer: Task<Void, Never>?
    }

    private enum DropCounter { case nonRetryable, retryExhausted, tooLarge, atShutdown }

    static var userAgent: String { "probe-agent/\(OTLPResource.sdkVersion) (OTLP-Exporter-Swift)" }
    /// Stands in for "no limit" (timeout 0), as the spec allows.
    static var noLimit: Duration { .milliseconds(Int64(Int32.max)) }
    /// While the collector is down, replay tries one request at least this often (backoff with
    /// jitter up to it), and honours a `Retry-After` up to `maxReplayDelay`.
    static var replayProbeCap: Duration { .seconds(5) }
    static var maxReplayDelay: Duration { .seconds(300) }

    init(config: SignalConfig, codec: SignalCodec<Item>, transport: any OTLPTransport, retry: RetryPolicy,
         clock: ExportClock, spool: Spool? = nil, diagnostics: @escaping DiagnosticsSink) {
        self.config = config
        self.codec = codec
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.spool = spool
        scrubber = SecretScrubber(config: config)
        bodyBuilder = RequestBodyBuilder(compression: config.compression)
        self.diagnostics = diagnostics
        outage = OutageLog(subject: "OTLP \(codec.signal.rawValue) export to \(HTTPURL.redact(config.endpoint))",
                           unit: codec.signal == .traces ? "spans" : "data points",
                           sink: diagnostics, scrubber: scrubber, now: clock.now)

        baseRequest = Self.request(config, contentType: config.protocol.contentType, contentEncoding: config.contentEncoding)
        log(.info, "OTLP exporter \(config)")
        if let spool { startReplay(spool) }
    }

    /// The POST of every export, without its body.
    private static func request(_ config: SignalConfig, contentType: String, contentEncoding: String?) -> HTTPRequest {
        var headers = HTTPHeaders()
        headers.add("Content-Type", contentType)
        headers.add("User-Agent", Self.userAgent)
        if let contentEncoding { headers.add("Content-Encoding", contentEncoding) }
        let reserved: Set<String> = ["content-type", "content-encoding", "content-length", "user-agent"]
        for header in config.headers where !reserved.contains(header.name.lowercased()) {
            headers.add(header.name, header.value)
        }
        var request = HTTPRequest(method: "POST", url: config.endpoint, headers: headers)
        request.maxResponseBodyBytes = config.maxResponseBytes
        request.tls = TLSOptions(caFile: config.certificateFile, clientCertFile: config.clientCertificateFile,
                                 clientKeyFile: config.clientKeyFile)
        return request
    }

    var stats: ExporterStats { state.withLock { $0.stats } }

    private var unit: String { codec.signal == .traces ? "spans" : "data points" }

    // MARK: export

    func export(_ items: [Item]) async -> ExportResult {
        guard !items.isEmpty else { return .success }
        if state.withLock({ $0.shutdownDeadline != nil }) {
            let count = codec.itemCount(items)
            record { $0.droppedAtShutdown += count; $0.failures += 1 }
            return .failure
        }
        await gate.acquire()
        defer { gate.release() }
        // Our own task, so shutdown can cancel a retry sleep without touching the caller's task.
        let task = Task { await self.run(items) }
        state.withLock { $0.inFlight = task }
        let result = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        state.withLock { $0.inFlight = nil }
        return result
    }

    private func run(_ items: [Item]) async -> ExportResult {
        let exportDeadline = config.timeout.map { clock.now() + $0 }
        let bodies: [(bytes: [UInt8], count: Int)], tooLarge: Int
        do {
            (bodies, tooLarge) = try codec.bodies(items, maxBytes: config.maxRequestBytes, builder: bodyBuilder)
        } catch {
            fail(count: codec.itemCount(items), counter: .nonRetryable, text: "request body not built (\(error))")
            record { $0.failures += 1 }
            return .failure
        }
        var delivered = true
        if tooLarge > 0 {
            delivered = false
            fail(count: tooLarge, counter: .tooLarge,
                 text: "request over \(config.maxRequestBytes) bytes even for a single item; not sent")
        }
        for body in bodies where !(await deliver(body.bytes, count: body.count, exportDeadline: exportDeadline)) {
            delivered = false
        }
        if !delivered { record { $0.failures += 1 } }
        return delivered ? .success : .failure
    }

    /// The export's own deadline, tightened by a shutdown deadline once there is one.
    private func deadline(_ exportDeadline: ContinuousClock.Instant?) -> (ContinuousClock.Instant?, shutdown: Bool) {
        guard let shutdown = state.withLock({ $0.shutdownDeadline }) else { return (exportDeadline, false) }
        guard let exportDeadline, exportDeadline < shutdown else { return (shutdown, true) }
        return (exportDeadline, false)
    }

    /// One POST and what it came to.
    private enum Attempt {
        /// `accepted`: the items the collector took (all but those a partial success rejected).
        case delivered(accepted: Int)
        case rejected(problem: String, DropReason)
        case retryable(problem: String, after: Duration?)
        case cancelled
    }

    /// POSTs `request` once; a 2xx is accepted and counted here.
    private func attempt(_ request: HTTPRequest, count: Int, number: Int) async -> Attempt {
        let start = clock.now()
        let bytes = request.body?.count ?? 0
        do {
            let response = try await transport.execute(request)
            logAttempt(number, count: count, bytes: bytes, result: "HTTP \(response.status)", since: start)
            let decision = RetryRules.decision(status: response.status, headers: response.headers, now: clock.wallNow())
            let message = decision == .success ? nil
                : ExportResponseDecoder.statusMessage(body: response.body, contentType: response.headers["Content-Type"])
            let problem = "HTTP \(response.status)" + (message.map { ": \(clipped($0))" } ?? "")
            switch decision {
            case .success:
                return .delivered(accepted: accept(response, count: count))
            case .drop(let reason): return .rejected(problem: problem, reason)
            case .retry(let delay): return .retryable(problem: problem, after: delay)
            }
        } catch {
            let kind = (error as? HTTPClientError)?.kind ?? .other
            logAttempt(number, count: count, bytes: bytes, result: kind.rawValue, since: start)
            if Task.isCancelled || kind == .cancelled { return .cancelled }
            switch RetryRules.decision(transportError: kind) {
            case .drop(let reason): return .rejected(problem: "\(error)", reason)
            case .retry, .success: return .retryable(problem: "\(error)", after: nil)
            }
        }
    }

    /// POSTs one body until it is delivered or dropped; true when delivered.
    private func send(_ body: [UInt8], count: Int, exportDeadline: ContinuousClock.Instant?) async -> Bool {
        var request = baseRequest
        request.body = body
        var attempt = 0
        var lastProblem = ""
        while true {
            let (deadline, byShutdown) = deadline(exportDeadline)
            let now = clock.now()
            if let deadline, now >= deadline {
                fail(count: count, counter: byShutdown ? .atShutdown : .retryExhausted,
                     text: "\(byShutdown ? "shutdown" : "export") deadline reached\(lastProblem.isEmpty ? "" : " after \(lastProblem)")")
                return false
            }
            request.timeout = deadline.map { $0 - now } ?? Self.noLimit
            let serverDelay: Duration?
            switch await self.attempt(request, count: count, number: attempt) {
            case .delivered:
                return true
            case .cancelled:
                cancelled(count: count, after: lastProblem)
                return false
            case .rejected(let problem, let reason):
                fail(count: count, counter: .nonRetryable, text: "\(problem) (\(reason), not retryable)", failedAttempt: true)
                return false
            case .retryable(let problem, let delay):
                lastProblem = problem
                serverDelay = delay
            }
            attempt += 1
            let remaining = deadline.map { $0 - clock.now() }
            let delay = serverDelay ?? retry.backoff(attempt: attempt - 1)
            if attempt >= retry.maxAttempts {
                fail(count: count, counter: .retryExhausted, text: "\(lastProblem) (\(DropReason.attemptsExhausted))",
                     failedAttempt: true)
                return false
            }
            if let remaining, delay >= remaining {
                let reason: DropReason = serverDelay.map { .retryAfterPastDeadline($0) } ?? .deadlineExceeded
                fail(count: count, counter: byShutdown ? .atShutdown : .retryExhausted, text: "\(lastProblem) (\(reason))",
                     failedAttempt: true)
                return false
            }
            record { $0.retries += 1 }
            outage.failure("\(lastProblem); retrying", failedAttempts: 1)
            outage.retry()
            do {
                try await clock.sleep(delay)
            } catch {
                cancelled(count: count, after: lastProblem)
                return false
            }
        }
    }

    // MARK: spool

    /// Delivers one body, through the spool when there is one: a single attempt (none while the
    /// collector is down), and a body it does not take now is appended to the spool for the replay
    /// task. A spool that refuses it (disk full, unwritable) leaves the retries to `send`, as
    /// without a spool.
    private func deliver(_ body: [UInt8], count: Int, exportDeadline: ContinuousClock.Instant?) async -> Bool {
        guard let spool else { return await send(body, count: count, exportDeadline: exportDeadline) }
        var problem = "the collector is still down"
        var failedAttempts = 0
        let (deadline, _) = deadline(exportDeadline)
        let now = clock.now()
        if !state.withLock({ $0.collectorDown }), deadline.map({ now < $0 }) ?? true {
            var request = baseRequest
            request.body = body
            request.timeout = deadline.map { $0 - now } ?? Self.noLimit
            switch await attempt(request, count: count, number: 0) {
            case .delivered:
                return true
            case .rejected(let text, let reason):
                fail(count: count, counter: .nonRetryable, text: "\(text) (\(reason), not retryable)", failedAttempt: true)
                return false
            case .retryable(let text, _):
                state.withLock { $0.collectorDown = true }
                (problem, failedAttempts) = (text, 1)
            case .cancelled:
                problem = "export cancelled"
            }
        }
        let stored = SpoolRecord(signal: codec.signal, itemCount: count, createdAt: clock.wallNow(),
                                 contentType: config.protocol.contentType, contentEncoding: config.contentEncoding, body: body)
        guard await spool.io({ $0.append(stored) }) else {
            return await send(body, count: count, exportDeadline: exportDeadline)
        }
        record { $0.spooled += count }
        outage.failure("\(problem); kept in the spool", failedAttempts: failedAttempts, spooled: count)
        replayWake.notify()
        return true
    }

    private func startReplay(_ spool: Spool) {
        spool.addReplayer(recoveryWake)
        let policy = RetryPolicy(base: retry.base, cap: min(retry.cap, Self.replayProbeCap), jitter: retry.jitter)
        let task = Task.detached { [weak self] in
            var failures = 0
            while !Task.isCancelled {
                guard let self else { return }
                failures = await self.replayOldest(spool, policy: policy, failures: failures)
            }
        }
        state.withLock { $0.replayer = task }
    }

    /// Sends the spool's oldest record of this signal once and settles it, or waits a moment when
    /// there is none; returns the failures in a row so far, which pace the next try.
    private func replayOldest(_ spool: Spool, policy: RetryPolicy, failures: Int) async -> Int {
        let signal = codec.signal
        guard let (stored, ticket) = await spool.io({ $0.oldest(signal) }) else {
            await replayWake.wait(until: .now + .seconds(1))
            return failures
        }
        var request = stored.contentType == config.protocol.contentType && stored.contentEncoding == config.contentEncoding
            ? baseRequest : Self.request(config, contentType: stored.contentType, contentEncoding: stored.contentEncoding)
        request.body = stored.body
        request.timeout = config.timeout ?? Self.noLimit
        switch await attempt(request, count: stored.itemCount, number: failures) {
        // Counted before it leaves the spool: whoever sees the spool empty sees the counts too.
        case .delivered(let accepted):
            record { $0.replayed += accepted }
            await spool.io { $0.settle(ticket, done: true) }
            if failures > 0 { spool.collectorAnswered() }
            return 0
        case .rejected(let problem, let reason):
            fail(count: stored.itemCount, counter: .nonRetryable, text: "spooled request: \(problem) (\(reason), not retryable)",
                 failedAttempt: true)
            await spool.io { $0.settle(ticket, done: true) }
            return 0
        case .cancelled:
            await spool.io { $0.settle(ticket, done: false) }
            return failures
        case .retryable(let problem, let serverDelay):
            await spool.io { $0.settle(ticket, done: false) }
            state.withLock { $0.collectorDown = true }
            record { $0.retries += 1 }
            outage.failure("\(problem); spooled requests wait", failedAttempts: 1)
            outage.retry()
            if let serverDelay {
                try? await clock.sleep(min(serverDelay, Self.maxReplayDelay))
            } else {  // cut short when another signal's replay gets through
                await recoveryWake.wait(until: .now + policy.backoff(attempt: failures))
            }
            return failures + 1
        }
    }

    /// The debug line of one POST: signal, items, bytes on the wire, result, duration.
    private func logAttempt(_ attempt: Int, count: Int, bytes: Int, result: String, since start: ContinuousClock.Instant) {
        log(.debug, "OTLP \(codec.signal.rawValue) export attempt \(attempt + 1): \(count) \(unit), \(bytes) bytes, "
            + "\(result), \(OutageLog.text(clock.now() - start))")
    }

    /// A 2xx: everything delivered unless the body reports a partial success. Returns the items accepted.
    @discardableResult
    private func accept(_ response: HTTPResponse, count: Int) -> Int {
        state.withLock { $0.collectorDown = false }
        let partial: PartialSuccess?
        do {
            partial = try ExportResponseDecoder.partialSuccess(body: response.body, contentType: response.headers["Content-Type"])
        } catch {
            partial = nil
            warnOnce("could not decode the \(response.status) response body (\(error)); counted as delivered")
        }
        guard let partial else {
            record { $0.exported += count }
            outage.success()
            return count
        }
        let rejected = Int(clamping: max(0, min(partial.rejected, Int64(count))))
        record {
            $0.exported += count - rejected
            $0.rejectedPartial += rejected
        }
        let message = partial.errorMessage.isEmpty ? "" : ": \(clipped(partial.errorMessage))"
        if rejected > 0 {
            let text = "partial success, receiver rejected \(rejected) of \(count) \(unit)\(message)"
            record { $0.lastError = self.scrubber.scrub(text) }
            outage.failure(text, dropped: rejected)
        } else {
            outage.success()
            warnOnce("receiver warning\(message)")
        }
        return count - rejected
    }

    private func fail(count: Int, counter: DropCounter, text: String, failedAttempt: Bool = false) {
        let line = "\(text); dropped \(count) \(unit)"
        record { s in
            switch counter {
            case .nonRetryable: s.droppedNonRetryable += count
            case .retryExhausted: s.droppedRetryExhausted += count
            case .tooLarge: s.droppedTooLarge += count
            case .atShutdown: s.droppedAtShutdown += count
            }
            s.lastError = self.scrubber.scrub(line)
        }
        outage.failure(line, failedAttempts: failedAttempt ? 1 : 0, failedBatches: 1, dropped: count)
    }

    /// Cancelled by shutdown, or by the caller (a batch processor giving up on a slow export).
    private func cancelled(count: Int, after problem: String) {
        let atShutdown = state.withLock { $0.shutdownDeadline != nil }
        let text = (problem.isEmpty ? "" : "\(problem); ") + (atShutdown ? "cancelled at shutdown" : "export cancelled by the caller")
        fail(count: count, counter: atShutdown ? .atShutdown : .retryExhausted, text: text, failedAttempt: true)
    }

    private func warnOnce(_ text: String) {
        let first = state.withLock { s in
            defer { s.warnedOnce = true }
            return !s.warnedOnce
        }
        if first { log(.warning, "OTLP \(codec.signal.rawValue) export to \(HTTPURL.redact(config.endpoint)): \(text)") }
    }

    private func log(_ level: DiagnosticLevel, _ message: String) {
        diagnostics(Diagnostic(level, scrubber.scrub(message)))
    }

    private func record(_ change: (inout ExporterStats) -> Void) {
        state.withLock { change(&$0.stats) }
    }

    // MARK: flush / shutdown

    /// Waits for the export in flight, if any, until `deadline`.
    func forceFlush(deadline: ContinuousClock.Instant) async {
        guard let task = state.withLock({ $0.inFlight }) else { return }
        _ = await finishes(task, before: deadline)
    }

    /// Refuses new exports, lets the one in flight finish within `deadline` (no retry past it),
    /// cancels it at the deadline, and reports what was not delivered.
    func shutdown(deadline: ContinuousClock.Instant) async {
        let inFlight = state.withLock { s -> Task<ExportResult, Never>?? in
            guard s.shutdownDeadline == nil else { return .none }
            s.shutdownDeadline = deadline
            return .some(s.inFlight)
        }
        guard let inFlight else { return }  // second shutdown
        // Replay stops here: what it has not sent stays in the spool for the next start.
        state.withLock { $0.replayer }?.cancel()
        if let task = inFlight, !(await finishes(task, before: deadline)) {
            task.cancel()
            // A moment for the cancelled export to count what it drops, so the report is complete.
            _ = await finishes(task, before: clock.now() + .milliseconds(100))
        }
        let s = stats
        var line = "OTLP \(codec.signal.rawValue) exporter shut down: \(s.exported) \(unit) exported, "
            + "\(s.failures) failed export\(s.failures == 1 ? "" : "s"), \(s.retries) retr\(s.retries == 1 ? "y" : "ies")"
        if s.dropped > 0 || s.rejectedPartial > 0 {
            line += "; not delivered: \(s.dropped + s.rejectedPartial) (non-retryable \(s.droppedNonRetryable), "
                + "retries exhausted \(s.droppedRetryExhausted), too large \(s.droppedTooLarge), "
                + "at shutdown \(s.droppedAtShutdown), rejected by receiver \(s.rejectedPartial))"
        }
        if spool != nil { line += "; spooled \(s.spooled), replayed from the spool \(s.replayed)" }
        log(.info, line)
    }

    /// true when `task` completes before `deadline`; never waits past it.
    private func finishes(_ task: Task<ExportResult, Never>, before deadline: ContinuousClock.Instant) async -> Bool {
        let clock = self.clock
        let race = FirstOf()
        return await withCheckedContinuation { continuation in
            race.arm(continuation)
            let waiter = Task { _ = await task.value; race.finish(true) }
            Task {
                try? await clock.sleep(max(.zero, deadline - clock.now()))
                race.finish(false)
                waiter.cancel()
            }
        }
    }
}

/// Server-provided text, bounded so a hostile or broken receiver cannot flood the log.
private func clipped(_ text: String, to limit: Int = 512) -> String {
    text.count <= limit ? text : text.prefix(limit) + "…"
}

/// Resumes a continuation with the first of several results.
private final class FirstOf: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Bool, Never>?, done: Bool)>((nil, false))

    func arm(_ c: CheckedContinuation<Bool, Never>) { state.withLock { $0.continuation = c } }

    func finish(_ value: Bool) {
        let c = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard !s.done else { return nil }
            s.done = true
            return s.continuation
        }
        c?.resume(returning: value)
    }
}

extension SignalConfig {
    /// The `Content-Encoding` of its requests, nil when they are not compressed.
    var contentEncoding: String? { compression == .gzip ? "gzip" : nil }
}
