import FlyingFox
import Foundation

/// What the admin endpoints show. Each closure reads a snapshot; none may wait on a probe.
struct AdminRoutes: Sendable {
    var health: @Sendable () async -> Bool
    var readiness: @Sendable () async -> (ready: Bool, reason: String)
    var metrics: @Sendable () async -> String
    /// JSON of every target's state.
    var status: @Sendable () async -> [UInt8]
}

/// `/healthz`, `/readyz`, `/metrics`, `/status`: GET only, anything else 404.
struct AdminHandler: HTTPHandler {
    let routes: AdminRoutes

    static let paths: Set<String> = ["/healthz", "/readyz", "/metrics", "/status"]

    /// `request.path` is FlyingFox's standardised path: `/metrics/` and `/a/../metrics` are `/metrics`.
    func handleRequest(_ request: FlyingFox.HTTPRequest) async -> FlyingFox.HTTPResponse {
        var response = await respond(method: request.method.rawValue, path: request.path)
        // FlyingFox sends whatever body it is given; one after a HEAD would desynchronise a kept-alive connection.
        if request.method == .HEAD { response.payload = .httpBody(HTTPBodySequence(data: Data())) }
        return response
    }

    func respond(method: String, path: String) async -> FlyingFox.HTTPResponse {
        guard Self.paths.contains(path) else { return Self.text(.notFound, "not found\n") }
        guard method == "GET" else {
            var response = Self.text(.methodNotAllowed, "method not allowed\n")
            response.headers[HTTPHeader("Allow")] = "GET"
            return response
        }
        switch path {
        case "/healthz":
            return await routes.health() ? Self.text(.ok, "ok\n") : Self.text(.serviceUnavailable, "unhealthy\n")
        case "/readyz":
            let readiness = await routes.readiness()
            return readiness.ready ? Self.text(.ok, "ready\n") : Self.text(.serviceUnavailable, "not ready: \(readiness.reason)\n")
        case "/metrics":
            return Self.body(.ok, contentType: PrometheusText.contentType, Data((await routes.metrics()).utf8))
        default:
            return Self.body(.ok, contentType: "application/json", Data(await routes.status()))
        }
    }

    static func text(_ status: HTTPStatusCode, _ text: String) -> FlyingFox.HTTPResponse {
        body(status, contentType: "text/plain; charset=utf-8", Data(text.utf8))
    }

    static func body(_ status: HTTPStatusCode, contentType: String, _ body: Data) -> FlyingFox.HTTPResponse {
        FlyingFox.HTTPResponse(statusCode: status, headers: [.contentType: contentType, HTTPHeader("Cache-Control"): "no-store"],
                               body: body)
    }
}
