import Foundation
import HTTPClient
import Tracing

/// MCP legacy HTTP+SSE (2024-11-05): GET the SSE URL, wait for the `endpoint` event, POST
/// `initialize` there and read its answer from the still-open GET stream; then, as configured,
/// `notifications/initialized` and the deep check, their answers read from the stream too.
/// Closing the GET ends the server's session (this transport has no DELETE).
public struct LegacySSEProbe: Prober {
    /// POST `initialize` to the endpoint and wait for the answer; false stops at the `endpoint` event.
    public var initialize: Bool

    public init(initialize: Bool = true) {
        self.initialize = initialize
    }

    public func probe(_ target: Target, context: ProbeContext) async -> ProbeReport {
        var report = context.report(transport: .sse)

        // The GET's timeout is the probe's: it bounds every wait on the stream below.
        var request = HTTPRequest(method: "GET", url: target.url, headers: context.headers(for: target),
                                  timeout: context.deadline.remaining)
        request.headers.add("Accept", "text/event-stream")
        request.headers.add("Cache-Control", "no-cache")
        request.headers.add("Accept-Encoding", "identity")
        request.tls = target.tls
        request.freshConnection = true
        request.captureCertificate = target.url.lowercased().hasPrefix("https:")

        let stream: TracedStream
        switch await context.http.openStream(request) {
        case .failure(let error):
            report.record(error)
            return report
        case .success(let opened):
            stream = opened
        }
        defer { stream.close() }
        // The stream is the main answer; its body is the `initialize` answer, once read.
        var answer = ProbeAnswer(url: target.url, status: stream.status, headers: stream.headers, certificate: stream.peerCertificate)
        report.record(answer, timings: stream.timings)

        guard (200..<300).contains(stream.status) else {
            answer.body = await stream.readBody(limit: 512)
            report.answer = answer
            report.outcome = rejectedGET(answer, credentialsSent: context.credentials.areSent)
            await context.noteAuthAnswer(status: stream.status, headers: stream.headers,
                                         credentialsSent: context.credentials.areSent, target: target, into: &report)
            return report
        }
        guard stream.isSSE else {
            let type = stream.headers["content-type"].map { String($0.prefix(60)) } ?? "no content type"
            report.outcome = Outcome(.unhealthy, .invalidResponse, "SSE GET answered \(stream.status) with \(type), not text/event-stream")
            return report
        }

        guard let event = await stream.next(where: { $0.event == "endpoint" }) else {
            report.outcome = streamEnded(stream, waitingFor: "no endpoint event", timeout: target.timeout)
            return report
        }
        guard let endpoint = Self.resolveEndpoint(event.data, against: target.url) else {
            report.outcome = Outcome(.unhealthy, .invalidResponse, "endpoint event data is not an http(s) URL")
            return report
        }
        report.attributes.append(Attribute("mcp.sse.endpoint", .string(HTTPURL.redact(endpoint.url))))
        if !endpoint.sameOrigin { report.attributes.append(Attribute("mcp.sse.endpoint.cross_origin", .bool(true))) }
        guard initialize else {
            report.outcome = Outcome(.healthy)
            return report
        }

        let rpc = MCPRequests(target: target, context: context, toTargetOrigin: endpoint.sameOrigin)
        var session = Session(stream: stream, endpoint: endpoint.url, rpc: rpc)
        let posted: HTTPHeaders, postStatus: Int, response: JSONRPCResponse?
        switch await session.post(.initialize(clientVersion: context.clientVersion), freshConnection: true) {
        case .failed(let error):
            report.record(error, during: "endpoint POST")
            return report
        case .streamEnded:
            report.outcome = streamEnded(stream, waitingFor: "no initialize answer on the SSE stream", timeout: target.timeout)
            return report
        case .answered(status: 404, _, _, _):
            report.outcome = Outcome(.unhealthy, .http4xx, "endpoint POST 404 (mount prefix dropped?)")
            return report
        case .answered(let status, let headers, let body, let parsed):
            (postStatus, posted, response) = (status, headers, parsed)
            answer.body = body
        }
        report.answer = answer

        let reply = response.map(JSONRPCReply.init)
        let (outcome, _) = Classifier.initialize(InitializeExchange(
            status: postStatus, reply: reply, wwwAuthenticate: posted["www-authenticate"],
            bodyPreview: String(decoding: answer.body.prefix(200), as: UTF8.self), credentialsSent: rpc.credentialsSent))
        report.outcome = outcome
        if endpoint.sameOrigin {
            await context.noteAuthAnswer(status: postStatus, headers: posted, credentialsSent: rpc.credentialsSent,
                                         target: target, into: &report)
        }
        guard case .initializeResult(let facts)? = reply, (200..<300).contains(postStatus) else { return report }
        report.server = facts
        session.protocolVersion = facts.protocolVersion
        if case .mcp(let options) = target.kind {
            if options.sendInitialized, let status = await session.notify("notifications/initialized") {
                report.attributes.append(Attribute("mcp.initialized.status_code", .int(status)))
            }
            if let deep = options.deep {
                await DeepCheckRunner { [session] message in await session.call(message) }.run(deep, into: &report)
            }
        }
        return report
    }

    /// Messages POSTed to the endpoint, each answered on the open GET stream (or, by some servers,
    /// inline in the POST's response); each message's MCP span ends with its answer.
    private struct Session {
        let stream: TracedStream
        let endpoint: String
        let rpc: MCPRequests
        /// Negotiated by `initialize`; for the spans (this transport sends no version header).
        var protocolVersion: String?

        init(stream: TracedStream, endpoint: String, rpc: MCPRequests) {
            self.stream = stream
            self.endpoint = endpoint
            self.rpc = rpc
        }

        enum Reply {
            case failed(HTTPClientError)
            /// The POST was accepted, and the stream ended (or failed) before the answer.
            case streamEnded
            /// `body`: the answer message (inline, or the stream's event), or the POST's body when not 2xx.
            case answered(status: Int, headers: HTTPHeaders, body: [UInt8], response: JSONRPCResponse?)
        }

        /// `freshConnection`: a connection of its own, closed after (the probe's first POST leaves none pooled).
        func post(_ message: MCPMessage, freshConnection: Bool = false) async -> Reply {
            let (posted, span) = await rpc.start(message, url: endpoint) { $0.freshConnection = freshConnection }
            let finish = { [rpc, protocolVersion] (answer: MCPClientSpan.Answer, negotiated: String?) in
                rpc.finish(span, answer, protocolVersion: protocolVersion ?? negotiated, httpVersion: posted.httpVersion)
            }
            guard let status = posted.status, posted.error == nil else {
                let error = posted.error ?? HTTPClientError(kind: .other, message: "no response")
                finish(.failed(error.kind.probeErrorType), nil)
                return .failed(error)
            }
            var body = posted.body
            if message.id != nil, (200..<300).contains(status), !JSONRPCReply.isResponse(String(decoding: body, as: UTF8.self)) {
                guard let event = await stream.next(where: { $0.event == "message" && JSONRPCReply.isResponse($0.data) }) else {
                    finish(.failed(stream.failure?.kind.probeErrorType ?? .invalidResponse), nil)
                    return .streamEnded
                }
                body = Array(event.data.utf8)
            }
            let response = message.id.flatMap { id in body.isEmpty ? nil : JSONRPCResponse.parse(body, id: id) }
            finish(message.id == nil ? .accepted(httpStatus: status) : .response(response, httpStatus: status), response?.protocolVersion)
            return .answered(status: status, headers: posted.headers, body: body, response: response)
        }

        func notify(_ method: String) async -> Int? {
            switch await post(.notification(method)) {
            case .answered(let status, _, _, _): status
            case .failed, .streamEnded: nil
            }
        }

        func call(_ message: MCPMessage) async -> MCPRequests.Answer {
            switch await post(message) {
            case .failed(let error): .transportFailure(error)
            case .streamEnded: .failed("no answer to \(message.method) on the SSE stream", status: nil)
            case .answered(let status, _, _, _) where !(200..<300).contains(status):
                .failed("endpoint POST answered HTTP \(status)", status: status)
            case .answered(let status, _, _, let response): MCPRequests.answer(response, status: status)
            }
        }
    }

    /// The endpoint URL of an `endpoint` event: `data` resolved against the SSE URL (RFC 3986:
    /// root-relative, relative and absolute references), http(s) only.
    public static func resolveEndpoint(_ data: String, against sseURL: String) -> (url: String, sameOrigin: Bool)? {
        let reference = data.trimmingCharacters(in: .whitespaces)
        guard !reference.isEmpty, let base = HTTPURL(sseURL), let resolved = base.resolve(reference) else { return nil }
        return (resolved.text, resolved.origin == base.origin)
    }

    /// Why the stream gave no wanted event: the probe timeout, a transfer failure, or its end.
    private func streamEnded(_ stream: TracedStream, waitingFor what: String, timeout: Duration) -> Outcome {
        switch stream.failure?.kind {
        case .timeout?, .cancelled?:
            return Outcome(.unhealthy, .timeout, "\(what) within \(timeout)")
        case let kind?:
            let outcome = Classifier.transportError(kind)
            return Outcome(.unhealthy, outcome.errorType, "\(what): \(outcome.message)")
        case nil:
            return Outcome(.unhealthy, .invalidResponse, "\(what): the server closed the SSE stream")
        }
    }

    /// A non-2xx answer to the GET, classified as an answer to `initialize` would be, except that
    /// 400/404/405 here mean there is no legacy SSE endpoint at this URL.
    private func rejectedGET(_ answer: ProbeAnswer, credentialsSent: Bool) -> Outcome {
        let (outcome, next) = Classifier.initialize(InitializeExchange(
            status: answer.status, reply: nil, wwwAuthenticate: answer.headers["www-authenticate"],
            bodyPreview: String(decoding: answer.body, as: UTF8.self), credentialsSent: credentialsSent))
        if next == .tryLegacySSE { return Outcome(.unhealthy, .http4xx, "HTTP \(answer.status) to the SSE GET (no legacy SSE endpoint here?)") }
        return outcome
    }
}

extension TracedStream {
    /// The first event matching `wanted`; nil when the stream ended or failed first.
    func next(where wanted: (SSEEvent) -> Bool) async -> SSEEvent? {
        while let event = await nextEvent() {
            if wanted(event) { return event }
        }
        return nil
    }
}
