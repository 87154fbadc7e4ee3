import HTTPClient
import Logging
import Synchronization
import ProbeLogic
import Tracing

/// Runs one scheduled probe: the probe itself, then (inside its still-open span) the state step,
/// its span events and links; then metrics and a log line for every state change or error, and a
/// debug line for every probe. A probe cancelled at shutdown changes nothing but its own span.
struct ProbeExecutor: Sendable {
    let runner: ProbeRunner
    let book: TargetBook
    let metrics: ProbeMetrics
    let logger: Logger

    func execute(_ spec: TargetSpec) async {
        let name = spec.target.name
        logger.trace("probe starting", metadata: ["target": "\(name)", "kind": "\(Self.kindName(spec.target.kind))",
                                                  "timeout_ms": "\(Self.milliseconds(spec.target.timeout))"])
        let stepBox = StepBox()
        let run = await runner.run(spec.target) { report, context in
            let documents = await fetchDocuments(RestartMarks.documentURLs(spec.restartSignals), spec: spec, http: context.http)
            let observation = TargetHealth.Observation(
                health: report.outcome.health, probe: context.span.context,
                marks: RestartMarks.extract(signals: spec.restartSignals, report: report, documents: documents))
            let previous = book.state(of: name)
            guard let step = book.observe(name, observation) else { return }
            annotate(context.span, step: step, previous: previous)
            stepBox.step = step
        }
        if run.cancelled {
            logger.info("probe cancelled at shutdown", metadata: [
                "target": "\(name)", "trace_id": "\(run.traceID.hex)", "duration_ms": "\(Self.milliseconds(run.duration))"])
            return
        }
        logger.debug("probe finished", metadata: Self.summary(run))
        book.recordResult(name, run)
        guard let step = stepBox.step else { return }
        logger.trace("target state", metadata: [
            "target": "\(name)", "trace_id": "\(run.traceID.hex)", "state": "\(step.health.state.rawValue)",
            "consecutive_failures": "\(step.health.consecutiveFailures)"])
        metrics.record(run, step: step, labels: spec.target.labels)
        log(run, step: step)
        logTokenChange(run, spec: spec)
    }

    /// What a probe's log lines say about it: never its URL, headers or response content.
    static func summary(_ run: ProbeRun) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "target": "\(run.target)", "health_status": "\(run.report.outcome.health.rawValue)",
            "duration_ms": "\(milliseconds(run.duration))", "trace_id": "\(run.traceID.hex)",
        ]
        if let status = run.report.httpStatus { metadata["http_status"] = "\(status)" }
        if let errorType = run.report.outcome.errorType { metadata["error_type"] = "\(errorType.rawValue)" }
        return metadata
    }

    static func kindName(_ kind: Target.Kind) -> String {
        switch kind {
        case .mcp: "mcp"
        case .http: "http"
        }
    }

    static func milliseconds(_ duration: Duration) -> String {
        "\((duration / .milliseconds(1) * 10).rounded() / 10)"
    }

    private func annotate(_ span: Span, step: TargetHealth.Step, previous: TargetHealth.State) {
        span.setAttribute("health.state.previous", .string(previous.rawValue))
        span.setAttribute("health.consecutive_failures", .int(step.health.consecutiveFailures))
        if let transition = step.transition {
            span.addEvent("health.state_change", attributes: [Attribute("from", .string(transition.from.rawValue)),
                                                               Attribute("to", .string(transition.to.rawValue))])
        }
        if let evidence = step.restart {
            span.addEvent("target.restart", attributes: [Attribute("evidence", .string(evidence))])
        }
        if let first = step.recoveryLink {
            span.addLink(SpanLink(first, attributes: [Attribute("link.reason", .string("outage_start"))]))
        }
    }

    /// GETs the documents restart signals read (e.g. a gateway's `/version`), each in its own span.
    private func fetchDocuments(_ urls: [String], spec: TargetSpec, http: TracedHTTP) async -> [String: [UInt8]] {
        var documents: [String: [UInt8]] = [:]
        for url in Set(urls) {
            var request = HTTPRequest(url: url, timeout: min(spec.target.timeout, .seconds(5)))
            request.headers.add("Accept", "application/json")
            for header in spec.target.headers { request.headers.add(header.name, header.value) }
            request.tls = spec.target.tls
            request.maxResponseBodyBytes = 256 * 1024
            let exchange = await http.send(request)
            if let status = exchange.status, (200..<300).contains(status) { documents[url] = exchange.body }
        }
        return documents
    }

    private func log(_ run: ProbeRun, step: TargetHealth.Step) {
        let failed = !run.report.outcome.health.isSuccess
        guard step.transition != nil || step.restart != nil || failed else { return }  // the usual probe: nothing to say
        var metadata = Self.summary(run)
        if let transition = step.transition {
            metadata["from"] = "\(transition.from.rawValue)"
            metadata["to"] = "\(transition.to.rawValue)"
            let level: Logger.Level = transition.to == .up || transition.to == .unknown ? .notice : .warning
            logger.log(level: level, "state change: \(transition.from.rawValue) -> \(transition.to.rawValue)", metadata: metadata)
        }
        if let evidence = step.restart {
            logger.notice("target restarted: \(evidence)", metadata: metadata)
        }
        if failed, step.transition == nil {
            logger.info("probe failed: \(run.report.outcome.message)", metadata: metadata)
        }
    }
}

extension ProbeExecutor {
    /// One line when a target's OAuth token becomes unavailable and one when it is back, not one per probe.
    private func logTokenChange(_ run: ProbeRun, spec: TargetSpec) {
        guard let token = run.report.token,
              book.tokenAvailabilityChanged(run.target, unavailable: token.unavailableReason != nil) else { return }
        var metadata: Logger.Metadata = ["target": "\(run.target)", "trace_id": "\(run.traceID.hex)"]
        guard let reason = token.unavailableReason else {
            logger.notice("OAuth token available again", metadata: metadata)
            return
        }
        let policy = spec.target.auth.tokenFailurePolicy ?? .degraded
        metadata["reason"] = "\(reason)"
        metadata["on_token_failure"] = "\(policy.rawValue)"
        logger.warning("OAuth token unavailable (\(reason)): probing without credentials", metadata: metadata)
    }
}

/// Carries the step out of the span closure (set once, read after the probe returns).
private final class StepBox: Sendable {
    private let value = Mutex<TargetHealth.Step?>(nil)
    var step: TargetHealth.Step? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
