import HTTPClient
import Tracing

/// The probe's main answer, one shape for every kind: the HTTP response that carried the verdict
/// (the http check's response, the answer to `initialize` or `server/discover`, the legacy SSE
/// stream that carried the `initialize` answer). Restart marks and certificate expiry read it.
public struct ProbeAnswer: Sendable {
    public var url: String
    public var status: Int
    public var headers: HTTPHeaders
    /// The body, capped; for an SSE answer the data of the event that carried the reply.
    public var body: [UInt8]
    /// The server's leaf certificate, when the request asked for it (https).
    public var certificate: PeerCertificate?

    public init(url: String, status: Int, headers: HTTPHeaders, body: [UInt8] = [], certificate: PeerCertificate? = nil) {
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.certificate = certificate
    }

    /// An exchange that got a response: its body, or the SSE event reading stopped on.
    init?(_ exchange: Exchange, url: String) {
        guard let status = exchange.status, exchange.error == nil else { return nil }
        self.init(url: url, status: status, headers: exchange.headers,
                  body: exchange.matchedEvent.map { Array($0.data.utf8) } ?? exchange.body,
                  certificate: exchange.peerCertificate)
    }
}

/// Everything one probe learned; the runner turns it into span attributes, metrics and state.
public struct ProbeReport: Sendable {
    public var outcome: Outcome
    public var probeType: ProbeType
    /// The MCP transport that answered (or was last tried); nil for plain HTTP.
    public var transport: MCPTransport?
    /// The main answer's status, or the status a failed transfer had received.
    public var httpStatus: Int?
    public var answer: ProbeAnswer?
    public var server: MCPServerFacts?
    public var timings: PhaseTimings?
    /// Further facts for the root span (`auth.challenge`, `mcp.session.closed`, ...).
    public var attributes: [Attribute]
    /// What became of the OAuth token the target's auth asks for; nil for static credentials.
    public var token: TokenState?

    public var certificateNotAfter: Double? { answer?.certificate?.notAfter?.timeIntervalSince1970 }

    public init(outcome: Outcome, probeType: ProbeType, transport: MCPTransport? = nil, httpStatus: Int? = nil,
                server: MCPServerFacts? = nil, timings: PhaseTimings? = nil, attributes: [Attribute] = []) {
        self.outcome = outcome
        self.probeType = probeType
        self.transport = transport
        self.httpStatus = httpStatus
        self.server = server
        self.timings = timings
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

    /// The main answer arrived (its verdict is the prober's to decide).
    mutating func record(_ answer: ProbeAnswer, timings: PhaseTimings) {
        self.answer = answer
        httpStatus = answer.status
        self.timings = timings
    }

    /// The main exchange: its answer recorded and returned, or its transport failure recorded (nil).
    mutating func record(_ exchange: Exchange, url: String) -> ProbeAnswer? {
        guard let answer = ProbeAnswer(exchange, url: url) else {
            timings = exchange.timings
            record(exchange.error ?? HTTPClientError(kind: .other, message: "no response"))
            return nil
        }
        record(answer, timings: exchange.timings)
        return answer
    }

    /// A healthy verdict becomes `assertion_failed` when the main answer fails one of `checks`.
    mutating func applyAnswerChecks(_ checks: AnswerChecks) {
        guard let answer else { return }
        outcome = checks.apply(to: outcome, headers: answer.headers, body: answer.body)
    }

    /// The main exchange failed in transport: the one mapping of a transport error to a verdict.
    /// `step` names the exchange when it is not the first (`endpoint POST`).
    mutating func record(_ error: HTTPClientError, during step: String? = nil) {
        httpStatus = error.partialStatus ?? httpStatus
        if timings == nil { timings = error.timings }
        outcome = Classifier.transportError(error.kind)
        if let step { outcome.message = "\(step): \(outcome.message)" }
    }
}

/// Every probe kind has this shape (one file per kind under Probers/).
public protocol Prober: Sendable {
    func probe(_ target: Target, context: ProbeContext) async -> ProbeReport
}

/// What a prober may use: traced HTTP, the probe's credentials (resolved once by the runner),
/// its deadline, per-origin memory.
public struct ProbeContext: Sendable {
    public var http: TracedHTTP
    public var clientVersion: String
    public var credentials: ResolvedCredentials
    /// Where the credentials came from; told when the target rejects them.
    public var credentialSource: any CredentialSource
    /// Verdicts on 401/403 challenges, cached so the PRM is not fetched on every probe.
    public var challenges: ChallengeVerdictCache
    /// Per-origin memory (protocol era), shared by all probes of a runner.
    public var origins: OriginFacts
    /// The probe's timeout, counted from when its credentials were ready.
    public var deadline: ContinuousClock.Instant
    /// Where MCP operations record their duration; nil: nowhere (`check`).
    public var metrics: ProbeMetrics?

    public init(http: TracedHTTP, clientVersion: String, credentials: ResolvedCredentials,
                credentialSource: any CredentialSource = StaticCredentials(), challenges: ChallengeVerdictCache = ChallengeVerdictCache(),
                origins: OriginFacts = OriginFacts(), deadline: ContinuousClock.Instant, metrics: ProbeMetrics? = nil) {
        self.http = http
        self.clientVersion = clientVersion
        self.credentials = credentials
        self.credentialSource = credentialSource
        self.challenges = challenges
        self.origins = origins
        self.deadline = deadline
        self.metrics = metrics
    }

    /// A new report for this probe's credentials.
    func report(transport: MCPTransport?) -> ProbeReport {
        ProbeReport(outcome: Outcome(.unhealthy), credentials: credentials, transport: transport)
    }

    /// The target's headers and our `Authorization`, for requests to the target's origin.
    func headers(for target: Target, credentialsSent: Bool = true) -> HTTPHeaders {
        var headers = HTTPHeaders(target.headers)
        if credentialsSent, let authorization = credentials.authorization { headers.add("Authorization", authorization) }
        return headers
    }

    /// What a 401/403 to our request means, decided here for every prober: a 401 to credentials
    /// drops them from the cache; `auth.status` (unless the token was unavailable) says why; for
    /// MCP targets the Bearer challenge and its protected-resource metadata are checked
    /// (`auth.challenge`). Never changes the verdict.
    func noteAuthAnswer(status: Int, headers: HTTPHeaders, credentialsSent: Bool, target: Target,
                        into report: inout ProbeReport) async {
        guard status == 401 || status == 403 else { return }
        if status == 401, credentialsSent { await credentialSource.rejected(target) }
        let challenge = headers.values("www-authenticate").joined(separator: ", ")
        if report.token?.unavailableReason == nil {  // token_unavailable says more than `required`
            report.attributes.append(Attribute("auth.status", .string(Self.authStatus(
                httpStatus: status, credentialsSent: credentialsSent, challenge: challenge))))
        }
        guard case .mcp = target.kind else { return }
        let verdict = await challenges.verify(wwwAuthenticate: challenge.isEmpty ? nil : challenge, targetURL: target.url,
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

extension ContinuousClock.Instant {
    /// Time left until this deadline, never negative.
    var remaining: Duration { max(.zero, self - .now) }
}
