import NIOCore
import NIOHTTP1
import OTLPExporter

/// What the admin endpoints show. Each closure reads a snapshot; none may wait on a probe.
struct AdminRoutes: Sendable {
    var health: @Sendable () async -> Bool
    var readiness: @Sendable () async -> (ready: Bool, reason: String)
    var metrics: @Sendable () async -> String
    /// JSON of every target's state.
    var status: @Sendable () async -> [UInt8]
    /// The status page (`/`, `/targets/<name>`) and `/status?history=N`; nil: neither.
    var pages: StatusPages?
    /// Who may read what (`admin.basic_auth_users`).
    var access = AdminAccess()

    init(health: @escaping @Sendable () async -> Bool, readiness: @escaping @Sendable () async -> (ready: Bool, reason: String),
         metrics: @escaping @Sendable () async -> String, status: @escaping @Sendable () async -> [UInt8],
         pages: StatusPages? = nil, access: AdminAccess = AdminAccess()) {
        self.health = health
        self.readiness = readiness
        self.metrics = metrics
        self.status = status
        self.pages = pages
        self.access = access
    }

    static let paths: Set<String> = ["/healthz", "/readyz", "/metrics", "/status"]
    static let targetPagePrefix = "/targets/"

    /// `/healthz`, `/readyz`, `/metrics`, `/status`, and with `pages` `/` and `/targets/<name>`:
    /// GET only (405 with `Allow: GET`), anything else 404. `path` is a `routePath`, `query` the
    /// request target's query (`history=N` on `/status`).
    func respond(method: HTTPMethod, path: String, query: Substring = "") async -> AdminResponse {
        let isPage = pages != nil && (path == "/" || Self.targetName(path) != nil)
        guard Self.paths.contains(path) || isPage else { return .text(.notFound, "not found\n") }
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
        case "/status":
            guard let pages, let history = Self.queryValue("history", in: query) else {
                return AdminResponse(status: .ok, contentType: "application/json", body: ByteBuffer(bytes: await status()))
            }
            guard let count = Int(history), count >= 0 else {
                return .text(.badRequest, "history must be a whole number of probes (e.g. /status?history=20)\n")
            }
            return AdminResponse(status: .ok, contentType: "application/json",
                                 body: ByteBuffer(bytes: pages.statusWithHistory(min(count, AdminSettings.maxHistory))))
        case "/":
            return .html(pages!.page().index())
        default:
            guard let name = Self.targetName(path), let html = pages!.page().target(name) else {
                return .text(.notFound, "no such target\n")
            }
            return .html(html)
        }
    }

    /// `/targets/<name>` → the name, percent-decoded.
    static func targetName(_ path: String) -> String? {
        guard path.hasPrefix(targetPagePrefix) else { return nil }
        let segment = path.dropFirst(targetPagePrefix.count)
        guard !segment.isEmpty, !segment.contains("/") else { return nil }
        return HTMLText.percentDecoded(segment)
    }

    /// The first value of `name` in a query (`a=1&history=20`), not decoded (the values read here are numbers).
    static func queryValue(_ name: String, in query: Substring) -> Substring? {
        for item in query.split(whereSeparator: { $0 == "&" || $0 == ";" }) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }

    /// The query of a request target (after `?`, before `#`).
    static func query(_ target: String) -> Substring {
        guard let mark = target.firstIndex(of: "?") else { return "" }
        return target[target.index(after: mark)...].prefix { $0 != "#" }
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

/// The status page's sources: a snapshot of every target for the HTML, and `/status` with history.
struct StatusPages: Sendable {
    var page: @Sendable () -> StatusPage
    var statusWithHistory: @Sendable (Int) -> [UInt8]
}

struct AdminResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: ByteBuffer
    var allow: String?
    var wwwAuthenticate: String?
    var contentEncoding: String?

    static func text(_ status: HTTPResponseStatus, _ text: String) -> AdminResponse {
        AdminResponse(status: status, contentType: "text/plain; charset=utf-8", body: ByteBuffer(string: text))
    }

    static func html(_ html: String) -> AdminResponse {
        AdminResponse(status: .ok, contentType: "text/html; charset=utf-8", body: ByteBuffer(string: html))
    }

    /// Gzipped when the client takes gzip and the body is a page or JSON worth it: a fleet's status
    /// page is megabytes of repetitive markup.
    func compressed(acceptEncoding: String) -> AdminResponse {
        guard acceptEncoding.lowercased().contains("gzip"), body.readableBytes >= 1024,
              contentType.hasPrefix("text/html") || contentType.hasPrefix("application/json"),
              let gzipped = try? Gzip.compress(Array(body.readableBytesView)) else { return self }
        var response = self
        response.body = ByteBuffer(bytes: gzipped)
        response.contentEncoding = "gzip"
        return response
    }

    /// Wrong or missing credentials: no detail of which.
    static let unauthorized: AdminResponse = {
        var response = AdminResponse.text(.unauthorized, "Unauthorized\n")
        response.wwwAuthenticate = "Basic realm=\"probe-agent\", charset=\"UTF-8\""
        return response
    }()
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
        let authorization = head.headers.first(name: "authorization")
        let acceptEncoding = head.headers["accept-encoding"].joined(separator: ",")
        counters.answersPending.add(1, ordering: .relaxed)
        context.eventLoop.makeFutureWithTask {
            // Off the loop: a bcrypt check takes tens of milliseconds.
            guard routes.access.allows(path: path, authorization: authorization) else { return AdminResponse.unauthorized }
            return await routes.respond(method: head.method, path: path, query: AdminRoutes.query(head.uri))
                .compressed(acceptEncoding: acceptEncoding)
        }
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
        if let challenge = response.wwwAuthenticate { headers.add(name: "WWW-Authenticate", value: challenge) }
        if let encoding = response.contentEncoding {
            headers.add(name: "Content-Encoding", value: encoding)
            headers.add(name: "Vary", value: "Accept-Encoding")
        }
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
