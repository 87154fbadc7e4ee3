import Foundation
import HTTPClient
import Synchronization
import TestSupport
import XCTest
@testable import ProbeAgent

final class AdminServerTests: XCTestCase {
    private final class State: Sendable {
        let healthy = Atomic<Bool>(true)
        let ready = Atomic<Bool>(true)
    }

    private func routes(_ state: State, metricsDelay: Duration = .zero) -> AdminRoutes {
        AdminRoutes(
            health: { state.healthy.load(ordering: .relaxed) },
            readiness: { state.ready.load(ordering: .relaxed) ? (true, "") : (false, "no probe has completed yet") },
            metrics: {
                try? await Task.sleep(for: metricsDelay)
                return "# TYPE probe_success gauge\nprobe_success{target=\"a\"} 1\n"
            },
            status: { Array(#"{"targets":[]}"#.utf8) })
    }

    private static func get(_ port: Int, _ path: String, method: String = "GET") async throws -> HTTPResponse {
        try await HTTPClient.shared.execute(HTTPRequest(method: method, url: "http://127.0.0.1:\(port)\(path)",
                                                        body: method == "POST" ? [] : nil, timeout: .seconds(5)))
    }

    private func started(_ routes: AdminRoutes, port: Int = 0) async throws -> (AdminServer, Int) {
        let server = AdminServer(listen: ListenAddress(host: "127.0.0.1", port: port), routes: routes)
        try await server.start()
        let bound = await server.boundPort
        return (server, try XCTUnwrap(bound))
    }

    func testEndpoints() async throws {
        let state = State()
        let (server, port) = try await started(routes(state))

        var response = try await Self.get(port, "/healthz")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "ok\n")

        response = try await Self.get(port, "/readyz")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "ready\n")

        response = try await Self.get(port, "/metrics")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "# TYPE probe_success gauge\nprobe_success{target=\"a\"} 1\n")

        response = try await Self.get(port, "/status")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Type"], "application/json")
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), #"{"targets":[]}"#)

        state.healthy.store(false, ordering: .relaxed)
        state.ready.store(false, ordering: .relaxed)
        response = try await Self.get(port, "/healthz")
        XCTAssertEqual(response.status, 503)
        response = try await Self.get(port, "/readyz")
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "not ready: no probe has completed yet\n")

        await server.stop()
    }

    func testUnknownPathsAndMethods() async throws {
        let (server, port) = try await started(routes(State()))
        for path in ["/", "/nope", "/healthz/x", "/metrics.txt"] {
            let status = try await Self.get(port, path).status
            XCTAssertEqual(status, 404, path)
        }
        for (method, path) in [("POST", "/metrics"), ("DELETE", "/status"), ("PUT", "/healthz"), ("HEAD", "/readyz")] {
            let response = try await Self.get(port, path, method: method)
            XCTAssertEqual(response.status, 405, "\(method) \(path)")
            XCTAssertEqual(response.headers["Allow"], "GET")
        }
        let status = try await Self.get(port, "/elsewhere", method: "POST").status
        XCTAssertEqual(status, 404)
        // Paths are standardised before routing.
        let standardised = try await Self.get(port, "/x/../metrics/").status
        XCTAssertEqual(standardised, 200)
        await server.stop()
    }

    func testASlowScrapeDoesNotHoldUpOtherRequests() async throws {
        let (server, port) = try await started(routes(State(), metricsDelay: .seconds(2)))
        async let scrape = Self.get(port, "/metrics")
        try await Task.sleep(for: .milliseconds(100))
        let clock = ContinuousClock()
        let start = clock.now
        let health = try await Self.get(port, "/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertLessThan(clock.now - start, .seconds(1))
        let scraped = try await scrape.status
        XCTAssertEqual(scraped, 200)
        await server.stop()
    }

    func testBusyPortNamesTheAddress() async throws {
        let (first, port) = try await started(routes(State()))
        let second = AdminServer(listen: ListenAddress(host: "127.0.0.1", port: port), routes: routes(State()))
        do {
            try await second.start()
            XCTFail("a second server started on a busy port")
        } catch {
            XCTAssertEqual("\(error)", "admin.listen 127.0.0.1:\(port): cannot listen: address already in use")
        }
        await first.stop()
    }

    func testUnresolvableHostIsAClearError() async throws {
        let server = AdminServer(listen: ListenAddress(host: "no-such-host.invalid", port: 9464), routes: routes(State()))
        do {
            try await server.start()
            XCTFail("started on an unresolvable host")
        } catch {
            XCTAssertTrue("\(error)".hasPrefix("admin.listen no-such-host.invalid:9464: cannot listen: cannot resolve no-such-host.invalid"),
                          "\(error)")
        }
    }

    func testStopReleasesThePortAndAllowsARestart() async throws {
        let port = try freeLoopbackPort()
        let (server, bound) = try await started(routes(State()), port: port)
        XCTAssertEqual(bound, port)
        let status = try await Self.get(port, "/healthz").status
        XCTAssertEqual(status, 200)
        await server.stop()
        XCTAssertFalse(loopbackPortAccepts(port))
        await server.stop()  // idempotent

        let (again, _) = try await started(routes(State()), port: port)
        let restarted = try await Self.get(port, "/healthz").status
        XCTAssertEqual(restarted, 200)
        await again.stop()
    }

    func testLocalhostAndIPv6Loopback() async throws {
        for host in ["localhost", "::1"] {
            let server = AdminServer(listen: ListenAddress(host: host, port: 0), routes: routes(State()))
            do {
                try await server.start()
            } catch {
                if host == "::1" { continue }  // no IPv6 on this machine
                throw error
            }
            let bound = await server.boundPort
            let port = try XCTUnwrap(bound)
            let url = host == "::1" ? "http://[::1]:\(port)/healthz" : "http://localhost:\(port)/healthz"
            let status = try await HTTPClient.shared.execute(HTTPRequest(url: url)).status
            XCTAssertEqual(status, 200, host)
            await server.stop()
        }
    }
}
