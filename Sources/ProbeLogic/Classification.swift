import HTTPClient

/// The facts of one HTTP answer to an MCP `initialize`, as the classifier sees them.
public struct InitializeExchange: Sendable, Equatable {
    public var status: Int
    public var reply: JSONRPCReply?
    public var wwwAuthenticate: String?
    /// The first bytes of the body, for servers that explain themselves in plain text.
    public var bodyPreview: String
    public var credentialsSent: Bool

    public init(status: Int, reply: JSONRPCReply? = nil, wwwAuthenticate: String? = nil,
                bodyPreview: String = "", credentialsSent: Bool = false) {
        self.status = status
        self.reply = reply
        self.wwwAuthenticate = wwwAuthenticate
        self.bodyPreview = bodyPreview
        self.credentialsSent = credentialsSent
    }
}

/// What to do after a verdict: stop, or try another way of speaking to the server.
public enum NextStep: Sendable, Equatable {
    case done
    /// 400/404/405 without a JSON-RPC body: the server may speak legacy HTTP+SSE.
    case tryLegacySSE
    /// A JSON-RPC error that a 2026-era server gives a handshake: try `server/discover` once.
    case tryModernDiscover
}

extension HTTPClientError.Kind {
    /// The `error.type` this transport failure stands for (the MCP spans, the deep check).
    var probeErrorType: ProbeErrorType { Classifier.transportError(self).errorType ?? .other }
}

/// Pure decisions: an exchange or a transport error in, an outcome out. Table-tested.
public enum Classifier {
    /// JSON-RPC codes by which a 2026-07-28 server rejects handshake-era traffic: they name the era.
    static let modernEraCodes: Set<Int> = [-32020, -32021, -32022]
    /// Codes by which a 2026-07-28 server may also refuse an `initialize` (mcp 2.3's 2026 entry:
    /// 400 / -32602, no `_meta`), as may a handshake server for its own reasons: worth one
    /// `server/discover`, whose failure leaves the `initialize` verdict standing.
    static let eraQuestionCodes: Set<Int> = modernEraCodes.union([-32600, -32601, -32602])

    public static func transportError(_ kind: HTTPClientError.Kind) -> Outcome {
        switch kind {
        case .timeout: Outcome(.unreachable, .timeout, "timed out")
        case .dns: Outcome(.unreachable, .dns, "name could not be resolved")
        case .connectionRefused: Outcome(.unreachable, .connectionRefused, "connection refused")
        case .connectionReset, .emptyReply, .receiveFailed, .sendFailed:
            Outcome(.unreachable, .connectionReset, "connection reset or closed without a response")
        case .tls: Outcome(.unreachable, .tls, "TLS handshake failed")
        case .certificateInvalid: Outcome(.unreachable, .certificateInvalid, "server certificate not trusted")
        // The server answered, breaking a limit or HTTP itself: it is up, and wrong.
        case .responseTooLarge: Outcome(.unhealthy, .responseTooLarge, "response body over the size cap")
        case .responseHeadersTooLarge: Outcome(.unhealthy, .responseTooLarge, "response headers over the size limit")
        case .invalidHTTP: Outcome(.unhealthy, .invalidHTTP, "malformed HTTP response")
        case .tooManyRedirects: Outcome(.unhealthy, .redirect, "too many redirects")
        case .malformedURL: Outcome(.unhealthy, .other, "malformed URL")
        case .cancelled: Outcome(.unreachable, .timeout, "probe cancelled")
        case .other: Outcome(.unreachable, .other, "transfer failed")
        }
    }

    /// The seed's rule for a 401/403, for every kind: without credentials it proves the server is
    /// up (`alive`); to credentials we sent it is a rejection (`degraded`). nil for other statuses.
    public static func authAnswer(status: Int, credentialsSent: Bool, wwwAuthenticate: String?) -> Outcome? {
        switch (status, credentialsSent) {
        case (401, true): return Outcome(.degraded, .authRejected, "credentials rejected (401)")
        case (401, false): return Outcome(.alive, nil, "authentication required (401)")
        case (403, true):
            let scope = wwwAuthenticate.map(BearerChallenge.parse)?.error == "insufficient_scope"
            return Outcome(.degraded, .authRejected, scope ? "token lacks a required scope (403)" : "forbidden (403)")
        case (403, false): return Outcome(.alive, nil, "forbidden without credentials (403)")
        default: return nil
        }
    }

    /// An `http` target's status: healthy within `expected`, else what the status says (401/403 by
    /// `authAnswer`). What the answer must hold is `AnswerChecks`'.
    public static func httpStatus(_ status: Int, expected: [ClosedRange<Int>], credentialsSent: Bool,
                                  wwwAuthenticate: String?) -> Outcome {
        if expected.contains(where: { $0.contains(status) }) { return Outcome(.healthy) }
        if let outcome = authAnswer(status: status, credentialsSent: credentialsSent, wwwAuthenticate: wwwAuthenticate) {
            return outcome
        }
        switch status {
        case 300..<400: return Outcome(.unhealthy, .redirect, "HTTP \(status) redirect not followed")
        case 500..<600: return Outcome(.unhealthy, .http5xx, "HTTP \(status)")
        default: return Outcome(.unhealthy, .http4xx, "HTTP \(status) not in the expected status codes")
        }
    }

    public static func initialize(_ x: InitializeExchange) -> (Outcome, NextStep) {
        switch x.status {
        case 200..<300:
            switch x.reply {
            case .initializeResult?: return (Outcome(.healthy), .done)
            case .error(let code)?:
                let outcome = Outcome(.degraded, .jsonRPCError, "initialize rejected: \(JSONRPCErrorCode.describe(code))")
                return (outcome, eraQuestionCodes.contains(code) ? .tryModernDiscover : .done)
            case .invalidResult(let why)?: return (Outcome(.unhealthy, .invalidResponse, why), .done)
            case .idMismatch?:
                return (Outcome(.unhealthy, .jsonRPCIDMismatch, "JSON-RPC result for another id than initialize's"), .done)
            case .notJSONRPC?, nil: return (Outcome(.unhealthy, .invalidResponse, "no JSON-RPC InitializeResult in the response"), .done)
            }
        case 300..<400:
            return (Outcome(.unhealthy, .redirect, "HTTP \(x.status) redirect (trailing slash?)"), .done)
        case 401, 403:
            return (authAnswer(status: x.status, credentialsSent: x.credentialsSent, wwwAuthenticate: x.wwwAuthenticate)!, .done)
        case 400, 404, 405:
            if case .error(let code)? = x.reply {
                let outcome = Outcome(.degraded, .jsonRPCError, "HTTP \(x.status), initialize rejected: \(JSONRPCErrorCode.describe(code))")
                return (outcome, eraQuestionCodes.contains(code) ? .tryModernDiscover : .done)
            }
            return (Outcome(.unhealthy, .http4xx, "HTTP \(x.status) to initialize"), .tryLegacySSE)
        case 406, 415:
            return (Outcome(.degraded, .http4xx, "HTTP \(x.status): the server rejected the probe's headers"), .done)
        case 421:
            return (Outcome(.degraded, .http4xx, "HTTP 421: Host not allowed (DNS-rebinding allowlist behind a proxy?)"), .done)
        case 429:
            return (Outcome(.degraded, .http4xx, "HTTP 429: rate limited"), .done)
        case 503 where x.bodyPreview.localizedStandardContains("too many open sessions"):
            return (Outcome(.degraded, .http5xx, "HTTP 503: too many open sessions (session leak?)"), .done)
        case 500..<600:
            return (Outcome(.unhealthy, .http5xx, "HTTP \(x.status)"), .done)
        default:
            return (Outcome(.unhealthy, .http4xx, "HTTP \(x.status)"), .done)
        }
    }
}

extension String {
    func localizedStandardContains(_ other: String) -> Bool { lowercased().contains(other.lowercased()) }
}
