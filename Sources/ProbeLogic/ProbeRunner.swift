import HTTPClient
import Tracing

/// One probe's whole life, as a straight line (gatus's `executeEndpoint`): probe → answer checks
/// → restart marks → state step → root span → metrics, inside the probe's root span, returning one `ProbeRun`.
/// The caller keeps each target's `TargetHealth` between runs and passes it in.
public struct ProbeRunner: Sendable {
    public let http: TracedHTTP
    public let clientVersion: String
    public let credentials: any CredentialSource
    /// nil: no metrics (`check`).
    public let metrics: ProbeMetrics?
    public let challenges = ChallengeVerdictCache()
    public let origins = OriginFacts()

    public init(client: HTTPClient, tracer: Tracer, clientVersion: String,
                credentials: any CredentialSource = StaticCredentials(), metrics: ProbeMetrics? = nil) {
        self.http = TracedHTTP(client: client, tracer: tracer, userAgent: "probe-agent/\(clientVersion)")
        self.clientVersion = clientVersion
        self.credentials = credentials
        self.metrics = metrics
    }

    /// The prober for a target kind.
    public static func prober(for kind: Target.Kind) -> any Prober {
        switch kind {
        case .mcp(let options) where options.transport == .sse: LegacySSEProbe()
        case .mcp: StreamableHTTPProbe()
        case .http: HTTPProbe()
        }
    }

    /// Probes `target` (with `prober`, default the one for its kind) after `health`, its state so far.
    /// The probe's duration ends with the prober; restart documents are read after it, in their own spans.
    /// A probe whose task is cancelled (the agent shutting down) is no verdict on the target: its
    /// span says `error.type = cancelled`, the state and metrics are left alone and the run is marked `cancelled`.
    public func run(_ target: Target, after health: TargetHealth = TargetHealth(), prober: (any Prober)? = nil) async -> ProbeRun {
        let startUnixNano = wallClockUnixNano()
        let start = ContinuousClock.now
        return await http.tracer.withSpan("probe", kind: .internal, root: true, attributes: ProbeSpan.startAttributes(target)) { span in
            let credentials = await credentials.credentials(for: target)
            let context = ProbeContext(http: http, clientVersion: clientVersion, credentials: credentials,
                                       credentialSource: self.credentials, challenges: challenges, origins: origins,
                                       deadline: .now + target.timeout, metrics: metrics)
            var report = await (prober ?? Self.prober(for: target.kind)).probe(target, context: context)
            report.applyAnswerChecks(target.kind.expect)
            var run = ProbeRun(target: target.name, report: report, step: TargetHealth.Step(health: health),
                               traceID: span.context.traceID, spanID: span.context.spanID,
                               startUnixNano: startUnixNano, duration: ContinuousClock.now - start)
            run.sampled = span.context.isSampled
            if Task.isCancelled {
                run.cancelled = true
                ProbeSpan.recordCancelled(on: span)
                return run
            }
            run.report.applyTokenFailurePolicy(target.auth.tokenFailurePolicy)

            let sources = run.report.answer == nil ? [] : RestartMarks.documentSources(target.restartSignals)
            let documents = await RestartMarks.fetch(sources, for: target, context: context)
            run.restart = RestartMarks.read(signals: target.restartSignals, report: run.report, documents: documents)
            run.step = health.next(TargetHealth.Observation(health: run.report.outcome.health, probe: span.context,
                                                            marks: run.restart.marks), policy: target.policy)
            ProbeSpan.record(run, previous: health.state, on: span)
            metrics?.record(run, labels: target.labels)
            return run
        }
    }
}

/// The result of one probe run, as the CLI and the scheduler see it.
public struct ProbeRun: Sendable {
    public var target: String
    public var report: ProbeReport
    /// What the probe did to the target's state (unchanged for a cancelled run).
    public var step: TargetHealth.Step
    /// The restart marks read, and why a configured signal gave none.
    public var restart = RestartReading()
    public var traceID: TraceID
    public var spanID: SpanID
    /// The trace was sampled at its start (a tail sampler may still drop it when the root ends).
    public var sampled = true
    public var startUnixNano: UInt64
    /// The probe's own time (credentials and prober), without restart documents.
    public var duration: Duration
    /// Cut off before a verdict (see `ProbeRunner.run`): not a result of the target.
    public var cancelled = false

    public init(target: String, report: ProbeReport, step: TargetHealth.Step, traceID: TraceID, spanID: SpanID,
                startUnixNano: UInt64, duration: Duration) {
        self.target = target
        self.report = report
        self.step = step
        self.traceID = traceID
        self.spanID = spanID
        self.startUnixNano = startUnixNano
        self.duration = duration
    }
}

/// Which probe traces the failure-biased sampler keeps whatever its ratio (`exporter.sampling.mode:
/// failure_biased`): a failing probe (status ERROR, or `health.status` other than healthy/alive),
/// a state change, a restart. It reads the vocabulary `ProbeSpan` writes.
public enum ProbeTraceRule {
    public static let keeps: @Sendable (SpanData) -> Bool = { root in
        if root.status.code == .error { return true }
        if root.events.contains(where: { $0.name == "health.state_change" || $0.name == "target.restart" }) { return true }
        if let status = root.attributes["health.status"], status != "healthy", status != "alive" { return true }
        return false
    }
}

/// The root `probe` span's attributes, events and links: the one place they are written.
enum ProbeSpan {
    static func startAttributes(_ target: Target) -> [Attribute] {
        [Attribute("probe.target", .string(target.name))] + URLSpanAttributes.of(target.url)
            + target.labels.map { Attribute("probe.label." + $0.key, .string($0.value)) }
    }

    static func record(_ run: ProbeRun, previous: TargetHealth.State, on span: Span) {
        let report = run.report
        span.setAttribute("health.probe_type", .string(report.probeType.rawValue))
        span.setAttribute("health.status", .string(report.outcome.health.rawValue))
        if let transport = report.transport { span.setAttribute("mcp.transport", .string(transport.rawValue)) }
        if let status = report.httpStatus { span.setAttribute("http.response.status_code", .int(status)) }
        if let server = report.server {
            span.setAttribute("mcp.protocol.version", .string(server.protocolVersion))
            span.setAttribute("mcp.server.name", .string(server.serverName))
            if let version = server.serverVersion { span.setAttribute("mcp.server.version", .string(version)) }
        }
        if let errorType = report.outcome.errorType { span.setAttribute("error.type", .string(errorType.rawValue)) }
        span.setAttributes(report.attributes)
        if report.outcome.health.isSuccess {
            span.setStatus(.ok)
        } else {
            span.setStatus(.error(report.outcome.message.isEmpty ? report.outcome.health.rawValue : report.outcome.message))
        }

        let step = run.step
        span.setAttribute("health.state.previous", .string(previous.rawValue))
        span.setAttribute("health.consecutive_failures", .int(step.health.consecutiveFailures))
        if let transition = step.transition {
            span.addEvent("health.state_change", attributes: [Attribute("from", .string(transition.from.rawValue)),
                                                               Attribute("to", .string(transition.to.rawValue))])
        }
        if let evidence = step.restart {
            span.addEvent("target.restart", attributes: [Attribute("evidence", .string(evidence))])
        }
        for problem in run.restart.problems {
            span.addEvent("target.restart_signal.unread", attributes: [Attribute("reason", .string(problem))])
        }
        if let first = step.recoveryLink {
            span.addLink(SpanLink(first, attributes: [Attribute("link.reason", .string("outage_start"))]))
        }
    }

    static func recordCancelled(on span: Span) {
        span.setAttribute("error.type", .string("cancelled"))
        span.setStatus(.error("probe cancelled before it finished"))
    }
}
