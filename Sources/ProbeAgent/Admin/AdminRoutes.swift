import NIOCore
import NIOHTTP1

/// What the admin endpoints show. Each closure reads a snapshot; none may wait on a probe.
struct AdminRoutes: Sendable {
    var health: @Sendable () async -> Bool
    var readiness: @Sendable () async -> (ready: Bool, reason: String)
    var metrics: @Sendable () async -> String
    /// JSON of every target's state.
    var status: @Sendable () async -> [UInt8]

    static let paths: Set<String> = ["/healthz", "/readyz", "/metrics", "/status"]

    /// `/healthz`, `/readyz`, `/metrics`, `/status`: GET only (405 with `Allow: GET`), anything else 404.
    /// `path` is a `routePath`.
    func respond(method: HTTPMethod, path: String) async -> AdminResponse {
        guard Self.paths.contains(path) else { return .text(.notFound, "not found\n") }
        guard method == .GET else {
            var response = AdminResponse.text(.methodNotAllowed, "method not allowed\n")
            response.allow = "GET"
            return response
        }
        switch path {
        case "/healthz":
            return await health() ? .text(.ok, "ok\n") : .text(.serviceUnavailable, "unhealthy\n")
        case "/readyz":
            let readiness = await readiness()
            return readiness.ready ? .text(.ok, "ready\n") : .text(.serviceUnavailable, "not ready: \(readiness.reason)\n")
        case "/metrics":
            return AdminResponse(status: .ok, contentType: PrometheusText.contentType, body: ByteBuffer(string: await metrics()))
        default:
            return AdminResponse(status: .ok, contentType: "application/json", body: ByteBuffer(bytes: await status()))
        }
    }

    /// The request target as routed: query and fragment dropped, `.`, `..` and empty segments
    /// resolved, so `/metrics/` and `/a/../metrics?x=1` are `/metrics`.
    static func routePath(_ target: String) -> String {
        var segments: [Substring] = []
        for segment in target.prefix(while: { $0 != "?" && $0 != "#" }).split(separator: "/") {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        return "/" + segments.joined(separator: "/")
    }
}

struct AdminResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: ByteBuffer
    var allow: String?

    static func text(_ status: HTTPResponseStatus, _ text: String) -> AdminResponse {
        AdminResponse(status: status, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: text))
    }
}

/// Behind the HTTP decoder (one request at a time, `HTTPServerPipelineHandler` holds the next):
/// refuses bodies over `AdminLimits.maxRequestBodyBytes` (413), answers the rest from `AdminRoutes`
/// off the loop, and tells `AdminConnectionGuard` when each answer is written.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: AdminRoutes
    private let counters: AdminServerCounters
    private var request: (head: HTTPRequestHead, bodyBytes: Int)?
    private var refused = false

    init(routes: AdminRoutes, counters: AdminServerCounters) {
        self.routes = routes
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            let announced = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            if announced > AdminLimits.maxRequestBodyBytes { return refuseBody(context, head) }
            request = (head, 0)
        case .body(let part):
            guard let (head, bodyBytes) = request else { return }
            request = (head, bodyBytes + part.readableBytes)
            if bodyBytes + part.readableBytes > AdminLimits.maxRequestBodyBytes { refuseBody(context, head) }
        case .end:
            guard let (head, bodyBytes) = request else { return }
            request = nil
            answer(context, head, close: !head.isKeepAlive || bodyBytes > 0)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func refuseBody(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        refused = true
        request = nil
        write(.text(.payloadTooLarge, "request body too large\n"), to: head, close: true, context)
    }

    /// The endpoints take no body: after a request that had one, the connection closes.
    private func answer(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, close: Bool) {
        let (routes, counters) = (self.routes, self.counters)
        let path = AdminRoutes.routePath(head.uri)
        counters.answersPending.add(1, ordering: .relaxed)
        context.eventLoop.makeFutureWithTask { await routes.respond(method: head.method, path: path) }
            .assumeIsolated()
            .whenSuccess { response in
                counters.answersPending.subtract(1, ordering: .relaxed)
                guard context.channel.isActive else { return }
                self.write(response, to: head, close: close, context)
            }
    }

    private func write(_ response: AdminResponse, to request: HTTPRequestHead, close: Bool, _ context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.readableBytes)")
        headers.add(name: "Cache-Control", value: "no-store")
        if let allow = response.allow { headers.add(name: "Allow", value: allow) }
        if close {
            headers.add(name: "Connection", value: "close")
        } else if request.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers))),
                      promise: nil)
        // A HEAD answer has the headers of its GET and no body.
        if request.method != .HEAD, response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.triggerUserOutboundEvent(AdminConnectionGuard.Event.responded(close: close), promise: nil)
    }
}
