import Foundation
import HTTPClient
import Synchronization
import TestSupport
import XCTest
@testable import ProbeAgent

/// Each limit of the admin server, at its documented value, on a server in this process.
final class AdminLimitTests: XCTestCase {
    private func started() async throws -> (AdminServer, Int) {
        let routes = AdminRoutes(health: { true }, readiness: { (true, "") }, metrics: { "" }, status: { Array("{}".utf8) })
        let server = AdminServer(listen: ListenAddress(host: "127.0.0.1", port: 0), routes: routes)
        try await server.start()
        let port = await server.boundPort
        return (server, try XCTUnwrap(port))
    }

    /// Sends `request` on a new connection; the answer's status, how long it took, and whether the server then closed.
    private static func exchange(_ port: Int, _ request: [UInt8]) async throws -> (status: Int?, elapsed: Duration, closed: Bool) {
        try await offPool {
            let connection = try RawHTTPConnection(port: port)
            let start = ContinuousClock.now
            connection.send(request)
            let response = connection.readResponse(timeout: .seconds(5))
            let elapsed = ContinuousClock.now - start
            return (response?.status, elapsed, connection.closedByPeer(within: .seconds(3)))
        }
    }

    func testARequestHeadOverTheLimitGets431AtOnceAndTheConnectionCloses() async throws {
        let (server, port) = try await started()
        let fits = try await Self.exchange(port, requestHead(headBytes: 16 * 1024) + Array("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n".utf8))
        XCTAssertEqual(fits.status, 200, "a head of exactly 16 KiB is served")
        for size in [16 * 1024 + 1, 256 * 1024, 1024 * 1024] {
            let answer = try await Self.exchange(port, requestHead(headBytes: size))
            XCTAssertEqual(answer.status, 431, "\(size) bytes")
            XCTAssertLessThan(answer.elapsed, .seconds(1), "\(size) bytes")
            XCTAssertTrue(answer.closed, "\(size) bytes: connection closed after the 431")
        }
        await server.stop()
    }

    func testARequestBodyOverTheLimitGets413AtOnceAndTheConnectionCloses() async throws {
        let (server, port) = try await started()
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 2048)
        let requests: [(String, [UInt8])] = [
            ("2 KiB body", Array("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n".utf8) + body),
            // Refused on the head: the body is never waited for.
            ("1 MiB announced, none sent", Array("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n".utf8)),
            ("2 KiB chunked", Array("POST /status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n".utf8) + body
                + Array("\r\n0\r\n\r\n".utf8)),
        ]
        for (name, request) in requests {
            let answer = try await Self.exchange(port, request)
            XCTAssertEqual(answer.status, 413, name)
            XCTAssertLessThan(answer.elapsed, .seconds(1), name)
            XCTAssertTrue(answer.closed, "\(name): connection closed after the 413")
        }
        // A small body is within the cap: the usual answer.
        let small = try await Self.exchange(port, Array("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".utf8))
        XCTAssertEqual(small.status, 405)
        await server.stop()
    }

    func testConnectionsOverTheCapAreClosedAtOnce() async throws {
        let (server, port) = try await started()
        var held = try (0..<64).map { _ in try RawHTTPConnection(port: port) }
        let overCapClosed = try await offPool { try RawHTTPConnection(port: port).closedByPeer(within: .seconds(2)) }
        XCTAssertTrue(overCapClosed, "the 65th connection is closed at once")

        held.removeFirst()  // closes it
        let served = try await offPool { () -> Int? in
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline {
                let connection = try RawHTTPConnection(port: port)
                connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                if let status = connection.readResponse(timeout: .milliseconds(300))?.status { return status }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return nil
        }
        XCTAssertEqual(served, 200, "a closed connection frees its place")
        XCTAssertEqual(held.count, 63)
        await server.stop()
    }

    func testASlowRequestHeadGets408AndAnIdleConnectionIsClosed() async throws {
        let (server, port) = try await started()
        // Slowloris: a head that never ends, one header line every 500 ms.
        async let slowloris = offPool { () -> (Int?, Duration) in
            let connection = try RawHTTPConnection(port: port)
            let start = ContinuousClock.now
            connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
            while ContinuousClock.now - start < .seconds(15) {
                if let response = connection.readResponse(timeout: .milliseconds(500)) {
                    return (response.status, ContinuousClock.now - start)
                }
                guard connection.send("X-Slow: 1\r\n") else { break }
            }
            return (nil, ContinuousClock.now - start)
        }
        // A kept-alive connection left idle after one request.
        async let idle = offPool { () -> (Int?, Bool, Duration) in
            let connection = try RawHTTPConnection(port: port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            let status = connection.readResponse(timeout: .seconds(5))?.status
            let start = ContinuousClock.now
            let closed = connection.closedByPeer(within: .seconds(15))
            return (status, closed, ContinuousClock.now - start)
        }
        let (slowStatus, slowElapsed) = try await slowloris
        XCTAssertEqual(slowStatus, 408, "after \(slowElapsed)")
        XCTAssertGreaterThan(slowElapsed, .seconds(9))
        XCTAssertLessThan(slowElapsed, .seconds(12))
        let (idleStatus, idleClosed, idleElapsed) = try await idle
        XCTAssertEqual(idleStatus, 200)
        XCTAssertTrue(idleClosed, "idle connection still open after \(idleElapsed)")
        XCTAssertGreaterThan(idleElapsed, .seconds(9))
        XCTAssertLessThan(idleElapsed, .seconds(12))
        await server.stop()
    }
}

/// The attack on a running daemon: huge request heads from several clients at once.
final class AdminAbuseDaemonTests: XCTestCase {
    private struct Exchange: Sendable, CustomStringConvertible {
        var status: Int?
        var elapsed: Duration
        var description: String { "\(status.map(String.init) ?? "no answer") after \(elapsed)" }
    }

    /// New connection, `request`, one answer (nil status when none came within `timeout`).
    private static func exchange(_ port: Int, _ request: [UInt8], timeout: Duration) -> Exchange {
        let start = ContinuousClock.now
        guard let connection = try? RawHTTPConnection(port: port) else { return Exchange(status: nil, elapsed: .zero) }
        connection.send(request)
        let status = connection.readResponse(timeout: timeout)?.status
        return Exchange(status: status, elapsed: ContinuousClock.now - start)
    }

    private static func requestsServed(_ target: FixtureServer) async throws -> Int {
        let stats = try await HTTPClient.shared.execute(HTTPRequest(url: target.baseURL + "/stats", timeout: .seconds(5)))
        return try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Int])?["requests"])
    }

    func testHugeRequestHeadsFromSeveralClientsLeaveHealthzFastAndProbingAtRate() async throws {
        let target = try FixtureServer(script: "http_server.py")
        let interval = 0.25
        let agent = try RunningAgent(config: """
            admin:
              listen: {admin}
            targets:
              - name: web
                kind: http
                url: \(target.baseURL)/status/200
                interval: 250ms
                timeout: 200ms
            """)
        try await agent.waitFor("readiness") { (try? await agent.get("/readyz").0) == 200 }
        let port = try XCTUnwrap(Int(agent.adminURL.split(separator: ":").last ?? ""))

        let window: Duration = .seconds(8)
        let servedBefore = try await Self.requestsServed(target)
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + window
        // Four clients with 256 KiB heads, two with 1 MiB, each one every 100 ms through the window (at most 80).
        let heads = [256, 256, 256, 256, 1024, 1024].map { requestHead(headBytes: $0 * 1024) }
        let abuse = heads.map { head in
            Task {
                try await offPool { () -> [Exchange] in
                    var exchanges: [Exchange] = []
                    while ContinuousClock.now < end, exchanges.count < 80 {
                        exchanges.append(Self.exchange(port, head, timeout: .seconds(3)))
                        Thread.sleep(forTimeInterval: 0.1)
                    }
                    return exchanges
                }
            }
        }
        let health = try await offPool { () -> [Exchange] in
            var exchanges: [Exchange] = []
            let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
            while ContinuousClock.now < end {
                exchanges.append(Self.exchange(port, request, timeout: .seconds(2)))
                Thread.sleep(forTimeInterval: 0.1)
            }
            return exchanges
        }
        var abusive: [Exchange] = []
        for task in abuse { abusive += try await task.value }
        let elapsed = clock.now - start
        let probes = try await Self.requestsServed(target) - servedBefore - 1

        print("admin abuse: /healthz slowest \(health.map(\.elapsed).max() ?? .zero) of \(health.count);",
              "\(abusive.count) huge heads, slowest answer \(abusive.map(\.elapsed).max() ?? .zero);",
              "\(probes) probes in \(elapsed)")
        // Each /healthz within 100 ms; on a loaded 2-core machine the scheduler alone can cost
        // that, so one in twenty may be late, but none by more than a second and none unanswered.
        let late = health.filter { $0.elapsed > .milliseconds(100) }
        XCTAssertGreaterThanOrEqual(health.count, 20)
        XCTAssertTrue(health.allSatisfy { $0.status == 200 && $0.elapsed < .seconds(1) }, "/healthz: \(health)")
        XCTAssertLessThanOrEqual(late.count * 20, health.count, "/healthz over 100 ms: \(late.count) of \(health.count): \(late)")
        let notRefused = abusive.filter { $0.status != 431 || $0.elapsed > .seconds(1) }
        XCTAssertGreaterThanOrEqual(abusive.count, heads.count)
        XCTAssertTrue(notRefused.isEmpty, "huge heads not refused with 431 within 1 s: \(notRefused.count) of \(abusive.count), e.g. \(notRefused.prefix(5))")
        let expected = elapsed / .milliseconds(Int(interval * 1000))
        XCTAssertGreaterThanOrEqual(Double(probes), expected * 0.8, "\(probes) probes in \(elapsed), \(expected) expected")
        XCTAssertTrue(agent.process.isRunning)

        // Connections left mid-head do not hold up SIGTERM.
        let held = try (0..<8).map { _ in try RawHTTPConnection(port: port) }
        for connection in held { connection.send(Array(requestHead(headBytes: 1024 * 1024).prefix(8 * 1024))) }
        let exited = withExtendedLifetime(held) {
            agent.signal(SIGTERM)
            return agent.waitForExit(timeout: 5)
        }
        XCTAssertTrue(exited, "agent did not stop:\n\(agent.log.suffix(2000))")
        if exited { XCTAssertEqual(agent.process.terminationStatus, 0) }
    }
}
