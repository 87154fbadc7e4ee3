import HTTPClient
import Tracing

/// Everything one probe learned; the runner turns it into span attributes, metrics and state.
public struct ProbeReport: Sendable {
    public var outcome: Outcome
    public var probeType: ProbeType
    /// The MCP transport that answered (or was last tried); nil for plain HTTP.
    public var transport: MCPTransport?
    public var httpStatus: Int?
    public var server: MCPServerFacts?
    public var timings: PhaseTimings?
    public var certificateNotAfter: Double?
    /// Further facts for the root span (`auth.challenge`, `mcp.session.closed`, ...).
    public var attributes: [Attribute]
    /// Headers and (capped) body of the main answer, for restart marks and assertions.
    public var responseHeaders: HTTPHeaders?
    public var responseBody: [UInt8]?
    /// What became of the OAuth token the target's auth asks for; nil for static credentials.
    public var token: TokenState?

    public init(outcome: Outcome, probeType: ProbeType, transport: MCPTransport? = nil, httpStatus: Int? = nil,
                server: MCPServerFacts? = nil, timings: PhaseTimings? = nil, certificateNotAfter: Double? = nil,
                attributes: [Attribute] = []) {
        self.outcome = outcome
        self.probeType = probeType
        self.transport = transport
        self.httpStatus = httpStatus
        self.server = server
        self.timings = timings
        self.certificateNotAfter = certificateNotAfter
        self.attributes = attributes
    }

    /// A report of a probe sent with `credentials`: its probe type, and on the span why no
    /// credentials could be used (`auth.note`) and a token the config asks for but could not be
    /// obtained (`auth.status = token_unavailable`, `auth.reason`).
    public init(outcome: Outcome, credentials: ResolvedCredentials, transport: MCPTransport? = nil) {
        self.init(outcome: outcome, probeType: credentials.probeType, transport: transport)
        token = credentials.token
        if let note = credentials.note { attributes.append(Attribute("auth.note", .string(note))) }
        if let reason = credentials.token?.unavailableReason {
            attributes += [Attribute("auth.status", .string("token_unavailable")), Attribute("auth.reason", .string(reason))]
        }
    }
}

/// Every probe kind has this shape (one file per kind under Probers/).
public protocol Prober: Sendable {
    func probe(_ target: Target, context: ProbeContext) async -> ProbeReport
}

/// What a prober may use: traced HTTP, the root span, per-origin memory.
public struct ProbeContext: Sendable {
    public var http: TracedHTTP
    public var span: Span
    public var clientVersion: String
    public var credentials: any CredentialSource
    /// Verdicts on 401/403 challenges, cached so the PRM is not fetched on every probe.
    public var challenges: ChallengeVerdictCache
    /// Per-origin memory (protocol era), shared by all probes of a runner.
    public var origins: OriginFacts

    public init(http: TracedHTTP, span: Span, clientVersion: String, credentials: any CredentialSource,
                challenges: ChallengeVerdictCache = ChallengeVerdictCache(), origins: OriginFacts = OriginFacts()) {
        self.http = http
        self.span = span
        self.clientVersion = clientVersion
        self.credentials = credentials
        self.challenges = challenges
        self.origins = origins
    }

    /// On a 401/403: records `auth.status` (unless the token was unavailable) and whether the Bearer challenge (and its
    /// protected-resource metadata) is right (`auth.challenge`). Never changes the verdict.
    func verifyChallenge(_ exchange: Exchange, target: Target, deadline: ContinuousClock.Instant,
                         credentialsSent: Bool, into report: inout ProbeReport) async {
        guard let status = exchange.status, status == 401 || status == 403 else { return }
        let header = exchange.headers.values("www-authenticate").joined(separator: ", ")
        if report.token?.unavailableReason == nil {  // token_unavailable says more than `required`
            report.attributes.append(Attribute("auth.status", .string(Self.authStatus(
                httpStatus: status, credentialsSent: credentialsSent, challenge: header))))
        }
        let verdict = await challenges.verify(wwwAuthenticate: header.isEmpty ? nil : header, targetURL: target.url,
                                              http: http, timeout: min(deadline.remaining, .seconds(3)), tls: target.tls)
        report.attributes += verdict.attributes
    }

    /// `auth.status` for a 401/403: `required` (we sent nothing), `rejected` (401 to our
    /// credentials), `insufficient_scope` or `forbidden` (403 to our credentials).
    static func authStatus(httpStatus: Int, credentialsSent: Bool, challenge: String) -> String {
        guard credentialsSent else { return "required" }
        if httpStatus == 401 { return "rejected" }
        return BearerChallenge.parse(challenge).error == "insufficient_scope" ? "insufficient_scope" : "forbidden"
    }
}
