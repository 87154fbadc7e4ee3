import HTTPClient
import Tracing

/// Runs one probe of a target inside its root `probe` span and records the verdict on it.
public struct ProbeRunner: Sendable {
    public let http: TracedHTTP
    public let clientVersion: String
    public let credentials: any CredentialSource
    public let challenges = ChallengeVerdictCache()
    public let origins = OriginFacts()

    public init(client: HTTPClient, tracer: Tracer, clientVersion: String,
                credentials: any CredentialSource = StaticCredentials()) {
        self.http = TracedHTTP(client: client, tracer: tracer, userAgent: "probe-agent/\(clientVersion)")
        self.clientVersion = clientVersion
        self.credentials = credentials
    }

    /// The prober for a target kind.
    public static func prober(for kind: Target.Kind) -> any Prober {
        switch kind {
        case .mcp(let options) where options.transport == .sse: LegacySSEProbe()
        case .mcp: StreamableHTTPProbe()
        case .http: HTTPProbe()
        }
    }

    /// Probes `target` in a new root span. `beforeEnd` runs while the span is still open, so the
    /// caller can add what only it knows (state transitions, restart evidence, links).
    /// A probe whose task is cancelled (the agent shutting down) is no verdict on the target: its
    /// span says `error.type = cancelled`, `beforeEnd` is skipped and the run is marked `cancelled`.
    public func run(_ target: Target,
                    beforeEnd: @Sendable (ProbeReport, ProbeContext) async -> Void = { _, _ in }) async -> ProbeRun {
        let startNanos = wallClockUnixNano()
        let clockStart = ContinuousClock.now
        let (report, context, cancelled) = await http.tracer.withSpan("probe", kind: .internal, root: true,
                                                                        attributes: Self.startAttributes(target)) { span in
            let context = ProbeContext(http: http, span: span, clientVersion: clientVersion, credentials: credentials,
                                       challenges: challenges, origins: origins)
            var report = await Self.prober(for: target.kind).probe(target, context: context)
            if Task.isCancelled {
                span.setAttribute("error.type", .string("cancelled"))
                span.setStatus(.error("probe cancelled before it finished"))
                return (report, span.context, true)
            }
            report.applyTokenFailurePolicy(target.auth.tokenFailurePolicy)
            Self.record(report, on: span)
            await beforeEnd(report, context)
            return (report, span.context, false)
        }
        return ProbeRun(target: target.name, report: report, traceID: context.traceID, spanID: context.spanID,
                        startUnixNano: startNanos, duration: ContinuousClock.now - clockStart, cancelled: cancelled)
    }

    static func startAttributes(_ target: Target) -> [Attribute] {
        [Attribute("probe.target", .string(target.name))] + URLSpanAttributes.of(target.url)
            + target.labels.map { Attribute("probe.label." + $0.key, .string($0.value)) }
    }

    static func record(_ report: ProbeReport, on span: Span) {
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
    }
}

/// The result of one probe run, as the CLI and the scheduler see it.
public struct ProbeRun: Sendable {
    public var target: String
    public var report: ProbeReport
    public var traceID: TraceID
    public var spanID: SpanID
    public var startUnixNano: UInt64
    public var duration: Duration
    /// Cut off before a verdict (see `ProbeRunner.run`): not a result of the target.
    public var cancelled = false
}
