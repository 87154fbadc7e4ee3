import Foundation
import HTTPClient

/// JSON-RPC exchanges after `initialize` (and the 2026 `server/discover`), built on TracedHTTP.
struct MCPRequests {
    let target: Target
    /// The target's headers and our `Authorization`; none for an endpoint on another origin
    /// (secrets go only to the origin they were configured for).
    let headers: HTTPHeaders
    let credentialsSent: Bool
    let http: TracedHTTP
    let deadline: ContinuousClock.Instant

    init(target: Target, context: ProbeContext, toTargetOrigin: Bool = true) {
        self.target = target
        headers = toTargetOrigin ? context.headers(for: target) : HTTPHeaders()
        credentialsSent = toTargetOrigin && context.credentials.areSent
        http = context.http
        deadline = context.deadline
    }

    /// The answer to one JSON-RPC request.
    enum Answer {
        case result([String: Any])
        case error(code: Int)
        /// No usable answer; the string says why, `type` is the error.type it stands for.
        case failed(String, status: Int?, type: ProbeErrorType = .invalidResponse)

        /// The exchange failed: the transport error's kind, classified as for the probe itself.
        static func transportFailure(_ error: HTTPClientError) -> Answer {
            .failed(error.kind.rawValue, status: error.partialStatus, type: Classifier.transportError(error.kind).errorType ?? .other)
        }
    }

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

    /// Sends a request and reads its answer from a JSON or SSE response.
    func call(id: Int, method: String, paramsJSON: String, session: String?, version: String?,
              extraHeaders: [(String, String)] = []) async -> (Answer, Exchange) {
        let body = MCPMessages.request(id: id, method: method, paramsJSON: paramsJSON)
        let exchange = await http.send(post(body, session: session, version: version, extraHeaders: extraHeaders),
                                       reading: .sseUntil { JSONRPCReply.isResponse($0.data) })
        return (Self.answer(exchange, id: id), exchange)
    }

    /// Sends a notification; true when the server accepted it (any 2xx).
    func notify(method: String, session: String?, version: String?) async -> Int? {
        return await http.send(post(MCPMessages.notification(method), session: session, version: version)).status
    }

    static func answer(_ exchange: Exchange, id: Int) -> Answer {
        if let error = exchange.error { return .transportFailure(error) }
        return answer(exchange.matchedEvent.map { Array($0.data.utf8) } ?? exchange.body, id: id, status: exchange.status)
    }

    /// The answer to request `id` in one JSON-RPC response message (`status`: of the HTTP exchange that carried it).
    static func answer(_ bytes: [UInt8], id: Int, status: Int?) -> Answer {
        switch JSONRPCResponse.parse(bytes, id: id) {
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

    /// The params of a 2026-07-28 request: `paramsJSON` (a JSON object we wrote, `{}` for none)
    /// with the per-request `_meta` envelope every such request carries.
    static func params(clientVersion: String, adding paramsJSON: String = "{}") -> String {
        let envelope = #""_meta":{"io.modelcontextprotocol/protocolVersion":"\#(version)","io.modelcontextprotocol/clientInfo":{"name":"\#(MCPMessages.clientName)","version":"\#(clientVersion)"},"io.modelcontextprotocol/clientCapabilities":{}}"#
        let members = paramsJSON.drop { $0 != "{" }.dropFirst().drop(while: \.isWhitespace)
        return "{" + envelope + (members.first == "}" ? "" : ",") + members
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
