import HTTPClient

/// What to probe, how, and how to judge it over time. Built and validated once (from the config
/// file or the command line).
public struct Target: Sendable, Equatable {
    public var name: String
    public var url: String
    public var kind: Kind
    public var timeout: Duration
    /// Extra request headers (e.g. a static API key). Values are secrets: never recorded.
    public var headers: [HTTPHeader]
    public var auth: AuthConfig
    public var tls: TLSOptions
    /// When the target's state changes.
    public var policy: HealthPolicy
    /// Signs that the target restarted, read on every probe.
    public var restartSignals: [RestartSignal]
    /// `name: value` pairs on every metric series of the target and, as `probe.label.<name>`, on
    /// its root span. Names are valid Prometheus label names that no series of the agent uses.
    public var labels: [String: String]

    public enum Kind: Sendable, Equatable {
        case mcp(MCPOptions)
        case http(HTTPCheck)

        /// What the main answer must satisfy, whatever the kind.
        public var expect: AnswerChecks {
            switch self {
            case .mcp(let options): options.expect
            case .http(let check): check.expect
            }
        }
    }

    public init(name: String, url: String, kind: Kind = .mcp(MCPOptions()), timeout: Duration = .seconds(10),
                headers: [HTTPHeader] = [], auth: AuthConfig = .none, tls: TLSOptions = TLSOptions(),
                policy: HealthPolicy = HealthPolicy(), restartSignals: [RestartSignal] = [], labels: [String: String] = [:]) {
        self.name = name
        self.url = url
        self.kind = kind
        self.timeout = timeout
        self.headers = headers
        self.auth = auth
        self.tls = tls
        self.policy = policy
        self.restartSignals = restartSignals
        self.labels = labels
    }
}

public enum MCPTransport: String, Sendable, Equatable, CaseIterable {
    case auto
    case streamableHTTP = "streamable_http"
    case sse
}

/// Which MCP protocol era a StreamableHTTP probe speaks.
public enum MCPEra: String, Sendable, Equatable, CaseIterable {
    /// `initialize` first, `server/discover` when the server asks for the 2026 era; the era found
    /// is remembered per URL and origin.
    case auto
    /// `initialize` only: a 2026-only server is judged by its answer to it.
    case handshake
    /// `server/discover` first (falling back to `initialize` when the server is no 2026 server).
    case modern
}

/// How an MCP target is spoken to.
public struct MCPOptions: Sendable, Equatable {
    public var transport: MCPTransport
    public var era: MCPEra
    /// Send `notifications/initialized` after a successful `initialize` (exercises the 202 path).
    public var sendInitialized: Bool
    /// Deep mode: `tools/list` (tool count on the span) and optionally one tool call.
    public var deep: DeepCheck?
    /// What the main answer (the JSON-RPC message of `initialize` or `server/discover`) must satisfy.
    public var expect: AnswerChecks

    public init(transport: MCPTransport = .auto, era: MCPEra = .auto, sendInitialized: Bool = false, deep: DeepCheck? = nil,
                expect: AnswerChecks = AnswerChecks()) {
        self.transport = transport
        self.era = era
        self.sendInitialized = sendInitialized
        self.deep = deep
        self.expect = expect
    }
}

public struct DeepCheck: Sendable, Equatable {
    public var listTools: Bool
    public var toolCall: ToolCall?
    /// The verdict of a failing deep check (the server answered, a tool is broken): `degraded`
    /// unless the target says a broken tool means it is down.
    public var onFailure: OnFailure

    public enum OnFailure: String, Sendable, CaseIterable {
        case degraded, unhealthy
    }

    public init(listTools: Bool = true, toolCall: ToolCall? = nil, onFailure: OnFailure = .degraded) {
        self.listTools = listTools
        self.toolCall = toolCall
        self.onFailure = onFailure
    }
}

/// One configured tool call with an expected result.
public struct ToolCall: Sendable, Equatable {
    public var name: String
    /// JSON object text of the arguments.
    public var argumentsJSON: String
    /// The call succeeds when the result's text content contains this (nil: any non-error result).
    public var expectContains: String?

    public init(name: String, argumentsJSON: String = "{}", expectContains: String? = nil) {
        self.name = name
        self.argumentsJSON = argumentsJSON
        self.expectContains = expectContains
    }
}

/// Plain HTTP check: the request, the accepted statuses, and what the answer must satisfy.
public struct HTTPCheck: Sendable, Equatable {
    public var method: String
    public var body: String?
    /// Accepted status codes (default 2xx).
    public var expectedStatus: [ClosedRange<Int>]
    public var expect: AnswerChecks
    public var followRedirects: Bool

    public init(method: String = "GET", body: String? = nil, expectedStatus: [ClosedRange<Int>] = [200...299],
                bodyMatches: [RegularExpression] = [], bodyNotMatches: [RegularExpression] = [], jsonFields: [JSONFieldAssertion] = [],
                headerMatches: [HeaderAssertion] = [], followRedirects: Bool = true) {
        self.method = method
        self.body = body
        self.expectedStatus = expectedStatus
        expect = AnswerChecks(bodyMatches: bodyMatches, bodyNotMatches: bodyNotMatches, jsonFields: jsonFields,
                              headerMatches: headerMatches)
        self.followRedirects = followRedirects
    }
}

/// A secret value (token, password). Prints as `<redacted>` so string interpolation cannot leak it.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// Credentials for a target. Secret material stays inside; nothing here is ever put on a span.
public enum AuthConfig: Sendable, Equatable {
    case none
    /// A static bearer token.
    case bearer(token: Secret)
    case basic(username: String, password: Secret)
    /// OAuth2 client_credentials: a token from the token endpoint, cached until expiry. When none
    /// can be obtained, `onTokenFailure` decides the verdict.
    case clientCredentials(ClientCredentials)
    /// OAuth2 authorization_code: a stored token (file or env), refreshed with its refresh token.
    /// Without a stored token the probe runs as unauthenticated liveness; a failing refresh is
    /// decided by `onTokenFailure`.
    case authorizationCode(StoredToken)
}

public struct ClientCredentials: Sendable, Equatable {
    public var tokenURL: String
    public var clientID: String
    public var clientSecret: Secret
    public var scope: String?
    /// RFC 8707 `resource`; defaults to the target URL.
    public var resource: String?
    public var onTokenFailure: TokenFailurePolicy

    public init(tokenURL: String, clientID: String, clientSecret: Secret, scope: String? = nil, resource: String? = nil,
                onTokenFailure: TokenFailurePolicy = .degraded) {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scope = scope
        self.resource = resource
        self.onTokenFailure = onTokenFailure
    }
}

public struct StoredToken: Sendable, Equatable {
    /// JSON file `{"access_token", "refresh_token", "expires_at"}` or a bare token; written back on refresh.
    public var tokenFile: String?
    /// Environment variable holding the access token (never written back).
    public var tokenEnv: String?
    /// Token endpoint and client for the refresh_token grant (refresh is off without them).
    public var tokenURL: String?
    public var clientID: String?
    public var clientSecret: Secret?
    /// Applies when a refresh fails; no stored token at all is the seed's unauthenticated liveness.
    public var onTokenFailure: TokenFailurePolicy

    public init(tokenFile: String? = nil, tokenEnv: String? = nil, tokenURL: String? = nil,
                clientID: String? = nil, clientSecret: Secret? = nil, onTokenFailure: TokenFailurePolicy = .degraded) {
        self.tokenFile = tokenFile
        self.tokenEnv = tokenEnv
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.onTokenFailure = onTokenFailure
    }
}

/// `health.status`: what the probe concluded about the target.
public enum HealthStatus: String, Sendable, Equatable, CaseIterable {
    /// Answered correctly.
    case healthy
    /// Up, but the answer proves only liveness (e.g. 401 to an unauthenticated probe).
    case alive
    /// Up but not fully usable (credentials rejected, saturated, misconfigured).
    case degraded
    /// Answered, wrongly (5xx, invalid response).
    case unhealthy
    /// Could not be reached (timeout, DNS, refused, reset, TLS).
    case unreachable

    /// `probe.success`: healthy and alive count as success.
    public var isSuccess: Bool { self == .healthy || self == .alive }
}

/// `health.probe_type`.
public enum ProbeType: String, Sendable, Equatable {
    case authenticated
    case unauthenticatedLiveness = "unauthenticated_liveness"
    case anonymous
}

/// `error.type` on the probe span: a short, bounded set.
public enum ProbeErrorType: String, Sendable, Equatable, CaseIterable {
    case timeout
    case dns
    case connectionRefused = "connection_refused"
    case connectionReset = "connection_reset"
    case tls
    case certificateInvalid = "certificate_invalid"
    case http4xx = "http_4xx"
    case http5xx = "http_5xx"
    case authRejected = "auth_rejected"
    /// The OAuth token the target's auth asks for could not be obtained (`auth.reason` says why).
    case tokenUnavailable = "token_unavailable"
    case invalidResponse = "invalid_response"
    /// A reply that is not valid HTTP (no status line, a malformed header, a bad encoding).
    case invalidHTTP = "invalid_http"
    /// Headers or body over a size limit.
    case responseTooLarge = "response_too_large"
    case jsonRPCError = "jsonrpc_error"
    /// A JSON-RPC response whose id is not the request's.
    case jsonRPCIDMismatch = "jsonrpc_id_mismatch"
    case redirect
    case assertionFailed = "assertion_failed"
    case other = "_OTHER"
}
