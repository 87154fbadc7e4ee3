import Foundation
import HTTPClient
import Tracing

/// MCP Streamable HTTP. Handshake era (2025-03-26 .. 2025-11-25): one POST `initialize` (JSON or
/// SSE answer), optionally `notifications/initialized` and a deep check, then DELETE of the
/// session the server issued. Modern era (2026-07-28): `server/discover` and the deep check, no
/// session. With transport `auto`, a 400/404/405 without JSON-RPC falls back to legacy HTTP+SSE.
/// The era remembered for the URL is where a probe starts; a server found in another era is
/// re-detected in the same probe, so the memory saves requests and never changes a verdict.
/// Never GETs the endpoint.
public struct StreamableHTTPProbe: Prober {
    public init() {}

    public func probe(_ target: Target, context: ProbeContext) async -> ProbeReport {
        var report = context.report(transport: .streamableHTTP)
        let rpc = MCPRequests(target: target, context: context)
        let options = if case .mcp(let options) = target.kind { options } else { MCPOptions() }
        let isAuto = options.transport == .auto
        let remembered: OriginFacts.Era = switch options.era {
        case .auto: context.origins.era(of: target.url)
        case .handshake: .handshake
        case .modern: .modern
        }

        // Where the remembered era is wrong, the probe goes on from `initialize`, and does not
        // try that era's way again.
        var triedModern = false, triedLegacy = false
        switch remembered {
        case .modern:
            var modern = report
            if await discover(rpc, context: context, into: &modern) != .notModern { return modern }
            triedModern = true
        case .legacy where isAuto:
            let legacy = await LegacySSEProbe().probe(target, context: context)
            if Self.answeredAsLegacy(legacy) { return legacy }
            guard Self.noSSEEndpoint(legacy) else {
                // Down or broken: report it; the next probe starts from the top again.
                context.origins.remember(.handshake, for: target.url)
                return legacy
            }
            triedLegacy = true
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
        case .tryModernDiscover where !triedModern && options.era != .handshake:
            var modern = report
            let found = await discover(rpc, context: context, into: &modern)
            // A code that names the 2026 era makes discover's answer the verdict; after any other
            // error only a modern server found does (a handshake server's own -32602 stands).
            if case .error(let code)? = reply, Classifier.modernEraCodes.contains(code) || found == .modern { return modern }
            return report
        case .tryLegacySSE where isAuto && !triedLegacy:
            let legacy = await LegacySSEProbe().probe(target, context: context)
            guard Self.answeredAsLegacy(legacy) else { return report }
            context.origins.remember(.legacy, for: target.url)
            return legacy
        default:
            break
        }
        guard case .initializeResult(let facts)? = reply, (200..<300).contains(answer.status) else { return report }
        report.server = facts
        if remembered != .handshake { context.origins.remember(.handshake, for: target.url) }

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

    /// The legacy probe's verdict is the one to report: the SSE GET was answered as a legacy
    /// endpoint answers (2xx), or refused our credentials or their absence (401/403).
    static func answeredAsLegacy(_ legacy: ProbeReport) -> Bool {
        guard let status = legacy.httpStatus else { return false }
        return (200..<300).contains(status) || status == 401 || status == 403
    }

    /// The SSE GET said there is no legacy endpoint at this URL (400/404/405).
    static func noSSEEndpoint(_ legacy: ProbeReport) -> Bool {
        legacy.httpStatus.map { [400, 404, 405].contains($0) } ?? false
    }

    private func initialize(_ rpc: MCPRequests, url: String, context: ProbeContext) async -> (Exchange, JSONRPCResponse?) {
        await rpc.send(.initialize(clientVersion: context.clientVersion), url: url) { request in
            request.freshConnection = true
            request.captureCertificate = url.lowercased().hasPrefix("https:")
        }
    }

    /// What one `server/discover` found.
    enum Discovered {
        /// A 2026-07-28 server answered: the target's verdict is known.
        case modern
        /// No modern server at this URL (a JSON-RPC error, 400/404/405 without one, or a result
        /// that is no 2026-07-28 DiscoverResult): the handshake may be its era.
        case notModern
        /// An answer that says nothing of the era (auth, 5xx, a transport failure): the verdict.
        case failed
    }

    /// 2026-07-28: `server/discover`, the main exchange of a modern server, then the deep check;
    /// on success the origin is remembered as modern.
    private func discover(_ rpc: MCPRequests, context: ProbeContext, into report: inout ProbeReport) async -> Discovered {
        report.attributes.append(Attribute("mcp.era", .string(OriginFacts.Era.modern.rawValue)))
        let (exchange, response) = await rpc.send(ServerDiscover.message(clientVersion: context.clientVersion),
                                                  version: ServerDiscover.version,
                                                  extraHeaders: ModernEra.headers(method: "server/discover")) { request in
            request.freshConnection = true
            request.captureCertificate = rpc.target.url.lowercased().hasPrefix("https:")
        }
        guard let answer = report.record(exchange, url: rpc.target.url) else { return .failed }
        await context.noteAuthAnswer(status: answer.status, headers: answer.headers, credentialsSent: rpc.credentialsSent,
                                     target: rpc.target, into: &report)
        if let outcome = Classifier.authAnswer(status: answer.status, credentialsSent: rpc.credentialsSent,
                                               wwwAuthenticate: answer.headers["www-authenticate"]) {
            report.outcome = outcome
            return .failed
        }
        switch MCPRequests.answer(response, status: answer.status) {
        case .result(let result):
            guard let facts = ServerDiscover.facts(result), ModernEra.isModern(result) else {
                report.outcome = Outcome(.unhealthy, .invalidResponse, "server/discover result is no 2026-07-28 DiscoverResult")
                return .notModern
            }
            report.server = facts
            report.outcome = Outcome(.healthy)
            context.origins.remember(.modern, for: rpc.target.url)
        case .error(let code):
            report.outcome = Outcome(.degraded, .jsonRPCError, "server/discover rejected: \(JSONRPCErrorCode.describe(code))")
            return .notModern
        case .failed(let why, _, let type):
            // Without a JSON-RPC answer, a non-2xx status says what went wrong, as for `initialize`.
            let (outcome, next) = (200..<300).contains(answer.status) ? (Outcome(.unhealthy, type, why), .done)
                : Classifier.initialize(InitializeExchange(status: answer.status, credentialsSent: rpc.credentialsSent))
            report.outcome = Outcome(outcome.health, outcome.errorType, "server/discover: \(outcome.message)")
            return next == .tryLegacySSE ? .notModern : .failed
        }
        if case .mcp(let options) = rpc.target.kind {
            if options.sendInitialized {
                report.attributes.append(Attribute("mcp.initialized.skipped", .string("no handshake in the 2026-07-28 era")))
            }
            if let deep = options.deep {
                await DeepCheckRunner { message in
                    var message = message
                    message.meta = ServerDiscover.envelope(clientVersion: context.clientVersion)
                    return await rpc.call(message, session: nil, version: ServerDiscover.version,
                                          extraHeaders: ModernEra.headers(method: message.method, name: message.toolName)).0
                }.run(deep, into: &report)
            }
        }
        return .modern
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
/// result, over whichever transport and era `call` speaks (message → answer). A failure is
/// `deep.onFailure` (default degraded: the server answered, a tool is broken).
struct DeepCheckRunner {
    let call: (MCPMessage) async -> MCPRequests.Answer

    func run(_ deep: DeepCheck, into report: inout ProbeReport) async {
        let failure = deep.onFailure == .unhealthy ? HealthStatus.unhealthy : .degraded
        if deep.listTools {
            switch await call(MCPMessage(method: "tools/list", id: 2)) {
            case .result(let result):
                report.attributes.append(Attribute("mcp.tools.count", .int((result["tools"] as? [Any])?.count ?? 0)))
            case .error(let code):
                report.outcome = Outcome(failure, .jsonRPCError, "tools/list rejected: \(JSONRPCErrorCode.describe(code))")
                return
            case .failed(let why, _, let type):
                report.outcome = Outcome(failure, type, "tools/list: \(why)")
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
                report.outcome = Outcome(failure, .assertionFailed, "tool \(tool.name) returned an error")
            } else if let expected = tool.expectContains, !text.contains(expected) {
                report.outcome = Outcome(failure, .assertionFailed, "tool \(tool.name) result does not contain the expected text")
            }
        case .error(let code):
            report.outcome = Outcome(failure, .jsonRPCError, "tools/call \(tool.name) rejected: \(JSONRPCErrorCode.describe(code))")
        case .failed(let why, _, let type):
            report.outcome = Outcome(failure, type, "tools/call \(tool.name): \(why)")
        }
    }
}

/// What a 2026-07-28 request carries besides its `_meta` envelope (`ServerDiscover.envelope`).
enum ModernEra {
    /// `Mcp-Method`, and `Mcp-Name` for a method that names a tool, prompt or resource (the value
    /// as the spec encodes it: verbatim when it is plain printable ASCII, else `=?base64?…?=`).
    static func headers(method: String, name: String? = nil) -> [(String, String)] {
        guard let name else { return [("Mcp-Method", method)] }
        let plain = name.utf8.allSatisfy { (0x20...0x7E).contains($0) } && name == name.trimmingCharacters(in: .whitespaces)
            && !(name.hasPrefix("=?base64?") && name.hasSuffix("?="))
        return [("Mcp-Method", method), ("Mcp-Name", plain ? name : "=?base64?\(Data(name.utf8).base64EncodedString())?=")]
    }

    /// A DiscoverResult naming a 2026-07-28 version (one naming only handshake versions is a
    /// handshake server's advertisement, as the SDK clients read it).
    static func isModern(_ result: [String: Any]) -> Bool {
        (result["supportedVersions"] as? [String])?.contains(ServerDiscover.version) ?? false
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
