import Foundation
import HTTPClient
import Tracing

/// MCP Streamable HTTP. Handshake era (2025-03-26 .. 2025-11-25): one POST `initialize` (JSON or
/// SSE answer), optionally `notifications/initialized` and a deep check, then DELETE of the
/// session the server issued. Modern era (2026-07-28): `server/discover`, no session. With
/// transport `auto`, a 400/404/405 without JSON-RPC falls back to legacy HTTP+SSE.
/// Never GETs the endpoint.
public struct StreamableHTTPProbe: Prober {
    public init() {}

    public func probe(_ target: Target, context: ProbeContext) async -> ProbeReport {
        var report = context.report(transport: .streamableHTTP)
        let rpc = MCPRequests(target: target, context: context)

        let isAuto = if case .mcp(let options) = target.kind { options.transport == .auto } else { false }
        switch context.origins.era(of: target.url) {
        case .modern:
            await discover(rpc, context: context, into: &report)
            return report
        case .legacy where isAuto:
            let legacy = await LegacySSEProbe().probe(target, context: context)
            // Not legacy any more (or down): the next probe starts from the top again.
            if !legacy.outcome.health.isSuccess { context.origins.remember(.handshake, for: target.url) }
            return legacy
        default:
            break
        }

        var url = target.url
        var (exchange, response) = await initialize(rpc, url: url, context: context)
        if let status = exchange.status, status == 307 || status == 308,
           let location = Self.sameOriginRedirect(exchange.headers["location"], from: url) {
            // Starlette mounts answer /mcp with 307 to /mcp/: follow once, re-sending the POST.
            report.attributes.append(Attribute("probe.redirect", .string("HTTP \(status) to \(HTTPURL.redact(location)): configure the final URL")))
            url = location
            (exchange, response) = await initialize(rpc, url: url, context: context)
        }
        guard let answer = report.record(exchange, url: url) else { return report }
        let reply = response.map(JSONRPCReply.init)
        let (outcome, next) = Classifier.initialize(InitializeExchange(
            status: answer.status, reply: reply, wwwAuthenticate: answer.headers["www-authenticate"],
            bodyPreview: String(decoding: answer.body.prefix(200), as: UTF8.self), credentialsSent: rpc.credentialsSent))
        report.outcome = outcome
        await context.noteAuthAnswer(status: answer.status, headers: answer.headers, credentialsSent: rpc.credentialsSent,
                                     target: target, into: &report)

        switch next {
        case .tryModernDiscover:
            await discover(rpc, context: context, into: &report)
            return report
        case .tryLegacySSE:
            guard isAuto else { return report }
            let legacy = await LegacySSEProbe().probe(target, context: context)
            // A 2xx to the SSE GET means this is a legacy server: its verdict is the one to report.
            let spokeLegacy = legacy.httpStatus.map { (200..<300).contains($0) } ?? false
            if legacy.outcome.health.isSuccess { context.origins.remember(.legacy, for: target.url) }
            return legacy.outcome.health.isSuccess || spokeLegacy ? legacy : report
        case .done:
            break
        }
        guard case .initializeResult(let facts)? = reply, (200..<300).contains(answer.status) else { return report }
        report.server = facts

        // Trust a session id only from a 2xx InitializeResult (Python SDKs mint unusable ones on errors).
        let session = answer.headers["mcp-session-id"].flatMap { $0.isEmpty ? nil : $0 }
        if case .mcp(let options) = target.kind {
            if options.sendInitialized, let status = await rpc.notify(method: "notifications/initialized",
                                                                       session: session, version: facts.protocolVersion) {
                report.attributes.append(Attribute("mcp.initialized.status_code", .int(status)))
            }
            if let deep = options.deep {
                await DeepCheckRunner { message in
                    await rpc.call(message, session: session, version: facts.protocolVersion).0
                }.run(deep, into: &report)
            }
        }
        if let session {
            let closed = await closeSession(session, version: facts.protocolVersion, url: url, rpc: rpc)
            report.attributes.append(Attribute("mcp.session.closed", .bool(closed)))
        }
        return report
    }

    private func initialize(_ rpc: MCPRequests, url: String, context: ProbeContext) async -> (Exchange, JSONRPCResponse?) {
        await rpc.send(.initialize(clientVersion: context.clientVersion), url: url) { request in
            request.freshConnection = true
            request.captureCertificate = url.lowercased().hasPrefix("https:")
        }
    }

    /// 2026-07-28: `server/discover`, the main exchange of a modern server; on success the origin
    /// is remembered as modern.
    private func discover(_ rpc: MCPRequests, context: ProbeContext, into report: inout ProbeReport) async {
        report.attributes.append(Attribute("mcp.era", .string(OriginFacts.Era.modern.rawValue)))
        let (exchange, response) = await rpc.send(ServerDiscover.message(clientVersion: context.clientVersion),
                                                  version: ServerDiscover.version,
                                                  extraHeaders: [("Mcp-Method", "server/discover")]) { request in
            request.freshConnection = true
            request.captureCertificate = rpc.target.url.lowercased().hasPrefix("https:")
        }
        guard let answer = report.record(exchange, url: rpc.target.url) else { return }
        await context.noteAuthAnswer(status: answer.status, headers: answer.headers, credentialsSent: rpc.credentialsSent,
                                     target: rpc.target, into: &report)
        if let outcome = Classifier.authAnswer(status: answer.status, credentialsSent: rpc.credentialsSent,
                                               wwwAuthenticate: answer.headers["www-authenticate"]) {
            report.outcome = outcome
            return
        }
        switch MCPRequests.answer(response, status: answer.status) {
        case .result(let result):
            guard let facts = ServerDiscover.facts(result) else {
                report.outcome = Outcome(.unhealthy, .invalidResponse, "server/discover result lacks supportedVersions or capabilities")
                return
            }
            report.server = facts
            report.outcome = Outcome(.healthy)
            context.origins.remember(.modern, for: rpc.target.url)
        case .error(let code):
            report.outcome = Outcome(.degraded, .jsonRPCError, "server/discover rejected: \(JSONRPCErrorCode.describe(code))")
        case .failed(let why, _, let type):
            // Without a JSON-RPC answer, a non-2xx status says what went wrong, as for `initialize`.
            let outcome = (200..<300).contains(answer.status) ? Outcome(.unhealthy, type, why)
                : Classifier.initialize(InitializeExchange(status: answer.status, credentialsSent: rpc.credentialsSent)).0
            report.outcome = Outcome(outcome.health, outcome.errorType, "server/discover: \(outcome.message)")
            context.origins.remember(.handshake, for: rpc.target.url)
        }
    }

    /// DELETE the session. 2xx, 404 (already gone) and 405 (termination not allowed) all end our part.
    private func closeSession(_ sessionID: String, version: String, url: String, rpc: MCPRequests) async -> Bool {
        var request = HTTPRequest(method: "DELETE", url: url, timeout: min(rpc.deadline.remaining, .seconds(5)))
        request.headers = rpc.headers
        request.headers.add("Mcp-Session-Id", sessionID)
        request.headers.add("MCP-Protocol-Version", version)
        request.tls = rpc.target.tls
        let exchange = await rpc.http.send(request)
        guard let status = exchange.status else { return false }
        return (200..<300).contains(status) || status == 404 || status == 405
    }

    /// A 307/308 target on the same origin (a trailing-slash redirect), else nil.
    static func sameOriginRedirect(_ location: String?, from url: String) -> String? {
        guard let location, let base = HTTPURL(url), let resolved = base.resolve(location), resolved.origin == base.origin
        else { return nil }
        return resolved.text
    }
}

/// Deep mode: `tools/list` (tool count on the span) and optionally one tool call with an expected
/// result, over whichever transport `call` speaks (message → answer).
struct DeepCheckRunner {
    let call: (MCPMessage) async -> MCPRequests.Answer

    func run(_ deep: DeepCheck, into report: inout ProbeReport) async {
        if deep.listTools {
            let answer = await call(MCPMessage(method: "tools/list", id: 2))
            switch answer {
            case .result(let result):
                report.attributes.append(Attribute("mcp.tools.count", .int((result["tools"] as? [Any])?.count ?? 0)))
            case .error(let code):
                report.outcome = Outcome(.degraded, .jsonRPCError, "tools/list rejected: \(JSONRPCErrorCode.describe(code))")
                return
            case .failed(let why, _, let type):
                report.outcome = Outcome(.degraded, type, "tools/list: \(why)")
                return
            }
        }
        guard let tool = deep.toolCall else { return }
        let answer = await call(.toolCall(id: 3, tool: tool.name, argumentsJSON: tool.argumentsJSON))
        report.attributes.append(Attribute("mcp.tool.name", .string(tool.name)))
        switch answer {
        case .result(let result):
            let text = (result["content"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }.joined(separator: "\n")
            if result["isError"] as? Bool == true {
                report.outcome = Outcome(.unhealthy, .assertionFailed, "tool \(tool.name) returned an error")
            } else if let expected = tool.expectContains, !text.contains(expected) {
                report.outcome = Outcome(.unhealthy, .assertionFailed, "tool \(tool.name) result does not contain the expected text")
            }
        case .error(let code):
            report.outcome = Outcome(.unhealthy, .jsonRPCError, "tools/call \(tool.name) rejected: \(JSONRPCErrorCode.describe(code))")
        case .failed(let why, _, let type):
            report.outcome = Outcome(.unhealthy, type, "tools/call \(tool.name): \(why)")
        }
    }
}

/// Headers every MCP POST carries, after the target's own and `Authorization`. Never `Origin`
/// (servers 403 foreign origins).
enum MCPHeaders {
    static func post(_ base: HTTPHeaders) -> HTTPHeaders {
        var headers = base
        headers.add("Content-Type", "application/json")
        headers.add("Accept", "application/json, text/event-stream")
        // gzip middleware buffers SSE; ask for the raw stream.
        headers.add("Accept-Encoding", "identity")
        return headers
    }
}
