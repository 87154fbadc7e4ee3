import Foundation
import HTTPClient

/// JSON-RPC messages to an MCP endpoint, each in its MCP CLIENT span (`MCPClientSpan`) with the
/// HTTP exchange that carries it as the span's child, built on TracedHTTP.
struct MCPRequests {
    let target: Target
    /// The target's headers and our `Authorization`; none for an endpoint on another origin
    /// (secrets go only to the origin they were configured for).
    let headers: HTTPHeaders
    let credentialsSent: Bool
    let http: TracedHTTP
    let deadline: ContinuousClock.Instant
    let metrics: ProbeMetrics?

    init(target: Target, context: ProbeContext, toTargetOrigin: Bool = true) {
        self.target = target
        headers = toTargetOrigin ? context.headers(for: target) : HTTPHeaders()
        credentialsSent = toTargetOrigin && context.credentials.areSent
        http = context.http
        deadline = context.deadline
        metrics = context.metrics
    }

    /// The answer to one JSON-RPC request.
    enum Answer {
        case result([String: Any])
        case error(code: Int)
        /// No usable answer; the string says why, `type` is the error.type it stands for.
        case failed(String, status: Int?, type: ProbeErrorType = .invalidResponse)

        /// The exchange failed: the transport error's kind, classified as for the probe itself.
        static func transportFailure(_ error: HTTPClientError) -> Answer {
            .failed(error.kind.rawValue, status: error.partialStatus, type: error.kind.probeErrorType)
        }
    }

    /// Where a message goes: a POST with the MCP headers (the body is the message span's to write).
    func post(_ body: [UInt8], url: String? = nil, session: String?, version: String?,
              extraHeaders: [(String, String)] = []) -> HTTPRequest {
        var request = HTTPRequest(method: "POST", url: url ?? target.url, body: body, timeout: deadline.remaining)
        request.headers = MCPHeaders.post(headers)
        if let session { request.headers.add("Mcp-Session-Id", session) }
        if let version { request.headers.add("MCP-Protocol-Version", version) }
        for (name, value) in extraHeaders { request.headers.add(name, value) }
        request.tls = target.tls
        return request
    }

    /// POSTs `message` inside its MCP span and leaves the span open: for an answer that comes
    /// another way (legacy SSE's stream), ended by `finish`.
    func start(_ message: MCPMessage, url: String? = nil, session: String? = nil, version: String? = nil,
               extraHeaders: [(String, String)] = [], reading: BodyReading = .all,
               prepare: (inout HTTPRequest) -> Void = { _ in }) async -> (Exchange, MCPClientSpan) {
        let span = MCPClientSpan(message, url: url ?? target.url, tracer: http.tracer)
        var request = post(span.body, url: url, session: session, version: version, extraHeaders: extraHeaders)
        prepare(&request)
        let exchange = await span.carrying { [request] in await http.send(request, reading: reading) }
        return (exchange, span)
    }

    /// Ends a message's span with how it was answered.
    func finish(_ span: MCPClientSpan, _ answer: MCPClientSpan.Answer, protocolVersion: String?, httpVersion: String?) {
        span.end(answer, protocolVersion: protocolVersion, httpVersion: httpVersion, target: target.name, metrics: metrics)
    }

    /// Sends `message` and reads its answer from the JSON or SSE response; the span ends with it.
    /// `protocolVersion` names the version for the span when no header says it (legacy SSE).
    func send(_ message: MCPMessage, url: String? = nil, session: String? = nil, version: String? = nil,
              protocolVersion: String? = nil, extraHeaders: [(String, String)] = [],
              prepare: (inout HTTPRequest) -> Void = { _ in }) async -> (Exchange, JSONRPCResponse?) {
        let reading: BodyReading = message.id == nil ? .all : .sseUntil { JSONRPCReply.isResponse($0.data) }
        let (exchange, span) = await start(message, url: url, session: session, version: version, extraHeaders: extraHeaders,
                                           reading: reading, prepare: prepare)
        guard let status = exchange.status, exchange.error == nil else {
            let type = exchange.error?.kind.probeErrorType ?? .other
            finish(span, .failed(type), protocolVersion: version ?? protocolVersion, httpVersion: exchange.httpVersion)
            return (exchange, nil)
        }
        guard let id = message.id else {
            finish(span, .accepted(httpStatus: status), protocolVersion: version ?? protocolVersion, httpVersion: exchange.httpVersion)
            return (exchange, nil)
        }
        let bytes = exchange.matchedEvent.map { Array($0.data.utf8) } ?? exchange.body
        let response = bytes.isEmpty ? nil : JSONRPCResponse.parse(bytes, id: id)
        finish(span, .response(response, httpStatus: status), protocolVersion: version ?? protocolVersion ?? response?.protocolVersion,
               httpVersion: exchange.httpVersion)
        return (exchange, response)
    }

    /// Sends a request; its answer, or why there is none.
    func call(_ message: MCPMessage, session: String?, version: String?,
              extraHeaders: [(String, String)] = []) async -> (Answer, Exchange) {
        let (exchange, response) = await send(message, session: session, version: version, extraHeaders: extraHeaders)
        if let error = exchange.error { return (.transportFailure(error), exchange) }
        return (Self.answer(response, status: exchange.status), exchange)
    }

    /// Sends a notification; the HTTP status it got (any 2xx: accepted).
    func notify(method: String, session: String?, version: String?) async -> Int? {
        await send(.notification(method), session: session, version: version).0.status
    }

    /// The answer to a request in one JSON-RPC response message (`status`: of the HTTP exchange that carried it).
    static func answer(_ response: JSONRPCResponse?, status: Int?) -> Answer {
        switch response ?? .malformed("without a JSON-RPC answer") {
        case .result(let result): .result(result)
        case .error(let code): .error(code: code)
        case .idMismatch: .failed("JSON-RPC result for another id", status: status, type: .jsonRPCIDMismatch)
        case .malformed(let why): .failed("HTTP \(status ?? 0) \(why)", status: status)
        }
    }
}

/// The 2026-07-28 `server/discover` request and what makes its result valid.
enum ServerDiscover {
    static let version = "2026-07-28"

    /// The `_meta` members every 2026-07-28 request carries (the trace context joins them).
    static func envelope(clientVersion: String) -> String {
        #""io.modelcontextprotocol/protocolVersion":"\#(version)","io.modelcontextprotocol/clientInfo":{"name":"\#(MCPMessages.clientName)","version":"\#(clientVersion)"},"io.modelcontextprotocol/clientCapabilities":{}"#
    }

    static func message(clientVersion: String) -> MCPMessage {
        MCPMessage(method: "server/discover", id: 1, meta: envelope(clientVersion: clientVersion))
    }

    /// Server facts from a valid DiscoverResult (non-empty `supportedVersions`, object `capabilities`).
    static func facts(_ result: [String: Any]) -> MCPServerFacts? {
        guard let versions = result["supportedVersions"] as? [String], let newest = versions.max(),
              let capabilities = result["capabilities"] as? [String: Any] else { return nil }
        let info = (result["_meta"] as? [String: Any])?["io.modelcontextprotocol/serverInfo"] as? [String: Any]
        return MCPServerFacts(protocolVersion: newest, serverName: info?["name"] as? String ?? "",
                              serverVersion: info?["version"] as? String, capabilities: capabilities.keys.sorted())
    }
}
