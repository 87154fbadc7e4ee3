import HTTPClient
import Logging
import ProbeLogic

/// Runs one scheduled probe: the probe's whole cycle is `ProbeRunner.run` (ProbeLogic); this
/// stores its result for `/status` and logs it: a line for every state change, restart or failed
/// probe, for an OAuth token or a restart signal going bad or good again, and a debug line for
/// every probe. A probe cancelled at shutdown changes nothing.
struct ProbeExecutor: Sendable {
    let runner: ProbeRunner
    let book: TargetBook
    let logger: Logger
    /// Whether a probe's trace was exported (`TraceKept.rule`), for the status page's trace links.
    var traceKept: @Sendable (ProbeRun) -> Bool = { $0.sampled }

    func execute(_ spec: TargetSpec) async {
        let name = spec.target.name
        logger.trace("probe starting", metadata: ["target": "\(name)", "kind": "\(Self.kindName(spec.target.kind))",
                                                  "timeout_ms": "\(Self.milliseconds(spec.target.timeout))"])
        let run = await runner.run(spec.target, after: book.health(of: name))
        if run.cancelled {
            logger.info("probe cancelled at shutdown", metadata: [
                "target": "\(name)", "trace_id": "\(run.traceID.hex)", "duration_ms": "\(Self.milliseconds(run.duration))"])
            return
        }
        logger.debug("probe finished", metadata: Self.summary(run))
        guard let changes = book.record(run, of: spec, sampled: traceKept(run)) else { return }  // the target left or changed meanwhile
        logger.trace("target state", metadata: [
            "target": "\(name)", "trace_id": "\(run.traceID.hex)", "state": "\(run.step.health.state.rawValue)",
            "consecutive_failures": "\(run.step.health.consecutiveFailures)"])
        log(run)
        if changes.token { logTokenChange(run, spec: spec) }
        if changes.restartProblems { logRestartProblems(run) }
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
        "\((duration.milliseconds * 10).rounded() / 10)"
    }

    private func log(_ run: ProbeRun) {
        let step = run.step
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

    /// One line when a target's OAuth token becomes unavailable and one when it is back, not one per probe.
    private func logTokenChange(_ run: ProbeRun, spec: TargetSpec) {
        var metadata: Logger.Metadata = ["target": "\(run.target)", "trace_id": "\(run.traceID.hex)"]
        guard let reason = run.report.token?.unavailableReason else {
            logger.notice("OAuth token available again", metadata: metadata)
            return
        }
        let policy = spec.target.auth.tokenFailurePolicy ?? .degraded
        metadata["reason"] = "\(reason)"
        metadata["on_token_failure"] = "\(policy.rawValue)"
        logger.warning("OAuth token unavailable (\(reason)): probing without credentials", metadata: metadata)
    }

    /// One line when the restart signals that cannot be read change (a document answering 401,
    /// a field gone), not one per probe.
    private func logRestartProblems(_ run: ProbeRun) {
        let metadata: Logger.Metadata = ["target": "\(run.target)", "trace_id": "\(run.traceID.hex)"]
        if run.restart.problems.isEmpty {
            logger.notice("restart signals readable again", metadata: metadata)
        } else {
            logger.warning("restart signal unread: \(run.restart.problems.joined(separator: "; "))", metadata: metadata)
        }
    }
}
