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

        guard let event = await next(from: stream, where: { $0.event == "endpoint" }) else {
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
        let posted = await context.http.send(rpc.post(MCPMessages.initialize(clientVersion: context.clientVersion), url: endpoint.url,
                                                      session: nil, version: nil))
        if let error = posted.error {
            report.record(error, during: "endpoint POST")
            return report
        }
        let postStatus = posted.status ?? 0
        switch postStatus {
        case 200..<300 where JSONRPCReply.isResponse(String(decoding: posted.body, as: UTF8.self)):
            answer.body = posted.body  // some servers answer inline instead of on the stream
        case 200..<300:
            guard let reply = await next(from: stream, where: { $0.event == "message" && JSONRPCReply.isResponse($0.data) }) else {
                report.outcome = streamEnded(stream, waitingFor: "no initialize answer on the SSE stream", timeout: target.timeout)
                return report
            }
            answer.body = Array(reply.data.utf8)
        case 404:
            report.outcome = Outcome(.unhealthy, .http4xx, "endpoint POST 404 (mount prefix dropped?)")
            return report
        default:
            answer.body = posted.body
        }
        report.answer = answer

        let reply = answer.body.isEmpty ? nil : JSONRPCReply.parse(answer.body)
        let (outcome, _) = Classifier.initialize(InitializeExchange(
            status: postStatus, reply: reply, wwwAuthenticate: posted.headers["www-authenticate"],
            bodyPreview: String(decoding: answer.body.prefix(200), as: UTF8.self), credentialsSent: rpc.credentialsSent))
        report.outcome = outcome
        if endpoint.sameOrigin {
            await context.noteAuthAnswer(status: postStatus, headers: posted.headers, credentialsSent: rpc.credentialsSent,
                                         target: target, into: &report)
        }
        guard case .initializeResult(let facts)? = reply, (200..<300).contains(postStatus) else { return report }
        report.server = facts
        if case .mcp(let options) = target.kind {
            let session = Session(stream: stream, endpoint: endpoint.url, rpc: rpc)
            if options.sendInitialized, let status = await session.notify("notifications/initialized") {
                report.attributes.append(Attribute("mcp.initialized.status_code", .int(status)))
            }
            if let deep = options.deep {
                await DeepCheckRunner { request in await session.call(id: request.id, method: request.method, paramsJSON: request.paramsJSON) }
                    .run(deep, into: &report)
            }
        }
        return report
    }

    /// Requests after `initialize`: POSTed to the endpoint, answered on the open GET stream (or,
    /// by some servers, inline in the POST's response).
    private struct Session {
        let stream: TracedStream
        let endpoint: String
        let rpc: MCPRequests

        func notify(_ method: String) async -> Int? {
            await rpc.http.send(rpc.post(MCPMessages.notification(method), url: endpoint, session: nil, version: nil)).status
        }

        func call(id: Int, method: String, paramsJSON: String) async -> MCPRequests.Answer {
            let body = MCPMessages.request(id: id, method: method, paramsJSON: paramsJSON)
            let posted = await rpc.http.send(rpc.post(body, url: endpoint, session: nil, version: nil))
            if let error = posted.error { return .transportFailure(error) }
            let status = posted.status ?? 0
            guard (200..<300).contains(status) else { return .failed("endpoint POST answered HTTP \(status)", status: status) }
            if JSONRPCReply.isResponse(String(decoding: posted.body, as: UTF8.self)) {
                return MCPRequests.answer(posted.body, id: id, status: status)
            }
            while let event = await stream.nextEvent() {
                if event.event == "message", JSONRPCReply.isResponse(event.data) {
                    return MCPRequests.answer(Array(event.data.utf8), id: id, status: status)
                }
            }
            return .failed("no answer to \(method) on the SSE stream", status: status)
        }
    }

    /// The endpoint URL of an `endpoint` event: `data` resolved against the SSE URL (RFC 3986:
    /// root-relative, relative and absolute references), http(s) only.
    public static func resolveEndpoint(_ data: String, against sseURL: String) -> (url: String, sameOrigin: Bool)? {
        let reference = data.trimmingCharacters(in: .whitespaces)
        guard !reference.isEmpty, let base = HTTPURL(sseURL), let resolved = base.resolve(reference) else { return nil }
        return (resolved.text, resolved.origin == base.origin)
    }

    /// The first event matching `wanted`; nil when the stream ended or failed first.
    private func next(from stream: TracedStream, where wanted: (SSEEvent) -> Bool) async -> SSEEvent? {
        while let event = await stream.nextEvent() {
            if wanted(event) { return event }
        }
        return nil
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
