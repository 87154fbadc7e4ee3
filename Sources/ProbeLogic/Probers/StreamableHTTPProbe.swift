import Foundation
import HTTPClient
import Tracing

/// MCP Streamable HTTP (2025-03-26 .. 2025-11-25): one POST `initialize`, JSON or SSE answer,
/// then DELETE of the session the server issued. Never GETs the endpoint.
public struct StreamableHTTPProbe: Prober {
    public init() {}

    public func probe(_ target: Target, context: ProbeContext) async -> ProbeReport {
        let deadline = ContinuousClock.now + target.timeout
        let credentials = await context.credentials.credentials(for: target)
        var report = ProbeReport(outcome: Outcome(.unhealthy), probeType: credentials.probeType, transport: .streamableHTTP)
        if let note = credentials.note { report.attributes.append(Attribute("auth.note", .string(note))) }

        var request = HTTPRequest(method: "POST", url: target.url, body: MCPMessages.initialize(clientVersion: context.clientVersion),
                                  timeout: deadline.remaining)
        request.headers = MCPHeaders.post(target: target, credentials: credentials)
        request.tls = target.tls
        request.freshConnection = true
        request.captureCertificate = target.url.lowercased().hasPrefix("https:")
        let initID = MCPMessages.initializeID
        let exchange = await context.http.send(request, reading: .sseUntil { JSONRPCReply.answers($0.data, id: initID) })
        report.timings = exchange.timings
        if let error = exchange.error {
            report.httpStatus = error.partialStatus
            report.outcome = Classifier.transportError(error.kind)
            return report
        }
        let status = exchange.status ?? 0
        report.httpStatus = status
        report.responseHeaders = exchange.headers
        let replyBytes: [UInt8] = exchange.matchedEvent.map { Array($0.data.utf8) } ?? exchange.body
        report.responseBody = replyBytes
        let reply = replyBytes.isEmpty ? nil : JSONRPCReply.parse(replyBytes)
        let (outcome, _) = Classifier.initialize(InitializeExchange(
            status: status, reply: reply, wwwAuthenticate: exchange.headers["www-authenticate"],
            bodyPreview: String(decoding: replyBytes.prefix(200), as: UTF8.self),
            credentialsSent: credentials.areSent))
        report.outcome = outcome
        if status == 401, credentials.areSent { await context.credentials.rejected(target) }
        await context.verifyChallenge(exchange, target: target, deadline: deadline, into: &report)
        guard case .initializeResult(let facts)? = reply, (200..<300).contains(status) else { return report }
        report.server = facts

        // Trust a session id only from a 2xx InitializeResult (Python SDKs mint unusable ones on errors).
        if let sessionID = exchange.headers["mcp-session-id"], !sessionID.isEmpty {
            let closed = await closeSession(sessionID, version: facts.protocolVersion, target: target,
                                            credentials: credentials, deadline: deadline, http: context.http)
            report.attributes.append(Attribute("mcp.session.closed", .bool(closed)))
        }
        return report
    }

    /// DELETE the session. 2xx, 404 (already gone) and 405 (termination not allowed) all end our part.
    private func closeSession(_ sessionID: String, version: String, target: Target, credentials: ResolvedCredentials,
                              deadline: ContinuousClock.Instant, http: TracedHTTP) async -> Bool {
        var request = HTTPRequest(method: "DELETE", url: target.url, timeout: min(deadline.remaining, .seconds(5)))
        request.headers = MCPHeaders.common(target: target, credentials: credentials)
        request.headers.add("Mcp-Session-Id", sessionID)
        request.headers.add("MCP-Protocol-Version", version)
        request.tls = target.tls
        let exchange = await http.send(request)
        guard let status = exchange.status else { return false }
        return (200..<300).contains(status) || status == 404 || status == 405
    }
}

/// Headers every MCP request carries. Never `Origin` (servers 403 foreign origins).
enum MCPHeaders {
    static func common(target: Target, credentials: ResolvedCredentials) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for header in target.headers { headers.add(header.name, header.value) }
        if let authorization = credentials.authorization { headers.add("Authorization", authorization) }
        return headers
    }

    static func post(target: Target, credentials: ResolvedCredentials) -> HTTPHeaders {
        var headers = common(target: target, credentials: credentials)
        headers.add("Content-Type", "application/json")
        headers.add("Accept", "application/json, text/event-stream")
        // gzip middleware buffers SSE; ask for the raw stream.
        headers.add("Accept-Encoding", "identity")
        return headers
    }
}

extension ContinuousClock.Instant {
    /// Time left until this deadline, never negative.
    var remaining: Duration { max(.zero, self - .now) }
}
