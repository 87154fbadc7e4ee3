import Foundation
import HTTPClient
import TestSupport
import XCTest

/// Buffered exchanges against the plain-HTTP fixture.
final class ExchangeTests: HTTPFixtureTestCase {
    func testGetReturnsBodyHeadersAndPeer() async throws {
        let response = try await client.execute(HTTPRequest(url: "\(base)/bytes/1000"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, (0..<1000).map { UInt8($0 % 256) })
        XCTAssertEqual(response.headers["content-length"], "1000")
        XCTAssertEqual(response.headers["Content-Type"], "application/octet-stream")
        XCTAssertEqual(response.httpVersion, "1.1")
        XCTAssertEqual(response.peerAddress, "127.0.0.1")
        XCTAssertEqual(response.peerPort, try Self.fixture.get().port)
        XCTAssertEqual(response.effectiveURL, "\(base)/bytes/1000")
        XCTAssertEqual(response.redirectCount, 0)
        XCTAssertNil(response.peerCertificate)
    }

    func testPostSendsBodyAndHeadersAsGivenWithoutExpect() async throws {
        // Over libcurl's Expect: 100-continue threshold, with every byte value.
        let body = (0..<(1_536 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var request = HTTPRequest(method: "POST", url: "\(base)/echo", body: body)
        request.headers.add("X-Probe", "one")
        request.headers.add("x-probe", "two")
        request.headers.add("X-Empty", "")
        request.headers.add("Content-Type", "application/octet-stream")
        request.maxResponseBodyBytes = 8 << 20
        let response = try await client.execute(request)
        XCTAssertEqual(response.status, 200)
        let echo = try Echo(response)
        XCTAssertEqual(echo.method, "POST")
        XCTAssertEqual(echo.body_len, body.count)
        XCTAssertEqual(echo.body_crc32, crc32(body))
        XCTAssertEqual(echo.headers.filter { $0[0].lowercased() == "x-probe" }.map { $0[1] }, ["one", "two"])
        XCTAssertEqual(echo.header("X-Empty"), "")
        XCTAssertEqual(echo.header("Content-Type"), "application/octet-stream")
        XCTAssertEqual(echo.header("Content-Length"), String(body.count))
        XCTAssertEqual(Set(echo.headerNames), ["host", "x-probe", "x-empty", "content-type", "content-length"])
    }

    func testPostWithoutBodyAndNoContentType() async throws {
        let echo = try Echo(try await client.execute(HTTPRequest(method: "POST", url: "\(base)/echo")))
        XCTAssertEqual(echo.method, "POST")
        XCTAssertEqual(echo.header("Content-Length"), "0")
        XCTAssertNil(echo.header("Content-Type"))
        XCTAssertNil(echo.header("Expect"))
        XCTAssertNil(echo.header("Accept"))
    }

    func testUserAcceptAndExpectHeadersAreSentAsGiven() async throws {
        var request = HTTPRequest(url: "\(base)/echo")
        request.headers.add("Accept", "application/json, text/event-stream")
        let echo = try Echo(try await client.execute(request))
        XCTAssertEqual(echo.header("Accept"), "application/json, text/event-stream")
        XCTAssertEqual(echo.method, "GET")
    }

    func testDeleteAndPutWithBody() async throws {
        var delete = HTTPRequest(method: "DELETE", url: "\(base)/echo?session=1")
        delete.headers.add("Mcp-Session-Id", "abc")
        let deleted = try Echo(try await client.execute(delete))
        XCTAssertEqual(deleted.method, "DELETE")
        XCTAssertEqual(deleted.path, "/echo?session=1")
        XCTAssertEqual(deleted.header("Mcp-Session-Id"), "abc")
        XCTAssertEqual(deleted.body_hex, "")

        let put = try Echo(try await client.execute(HTTPRequest(method: "PUT", url: "\(base)/echo", body: Array("hi".utf8))))
        XCTAssertEqual(put.method, "PUT")
        XCTAssertEqual(put.body_hex, hex(Array("hi".utf8)))
    }

    func testHeadHasNoBody() async throws {
        let response = try await client.execute(HTTPRequest(method: "HEAD", url: "\(base)/bytes/5000"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["content-length"], "5000")
        XCTAssertEqual(response.body, [])
    }

    func testErrorStatusesAreResponses() async throws {
        for status in [204, 404, 500, 503] {
            let response = try await client.execute(HTTPRequest(url: "\(base)/status/\(status)"))
            XCTAssertEqual(response.status, status)
            XCTAssertEqual(response.body, status == 204 ? [] : Array("status \(status)\n".utf8))
        }
    }

    func testSlowHeadersTimeOut() async throws {
        var error: HTTPClientError?
        let took = await elapsed { error = await client.failure(HTTPRequest(url: "\(base)/slow-headers/10", timeout: .milliseconds(500))) }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertEqual(error?.curlCode, 28)
        XCTAssertGreaterThanOrEqual(took, .milliseconds(450))
        XCTAssertLessThan(took, .seconds(3))
        XCTAssertNil(error?.partialStatus)
    }

    func testBlackholeTimesOut() async throws {
        let blackhole = try FixtureServer(script: "http_server.py", args: ["{port}", "--blackhole"])
        defer { blackhole.stop() }
        var error: HTTPClientError?
        let took = await elapsed {
            error = await client.failure(HTTPRequest(url: blackhole.baseURL + "/", timeout: .milliseconds(500)))
        }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertLessThan(took, .seconds(3))
        XCTAssertGreaterThan(error?.timings.connect ?? .zero, .zero, "connected, then waited")
    }

    func testClosedPortIsConnectionRefused() async throws {
        let port = try freeLoopbackPort()
        let error = await client.failure(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        XCTAssertEqual(error?.kind, .connectionRefused)
        XCTAssertEqual(error?.curlCode, 7)
        XCTAssertFalse(error?.message.contains("\(port)") ?? true, "message stays free of request data")
    }

    func testInvalidTLDFailsAsDNSWithoutLookup() async throws {
        var error: HTTPClientError?
        let took = await elapsed { error = await client.failure(HTTPRequest(url: "http://mcp.example.invalid/mcp")) }
        XCTAssertEqual(error?.kind, .dns)
        XCTAssertEqual(error?.curlCode, 0, "decided before libcurl")
        XCTAssertLessThan(took, .milliseconds(200))
    }

    func testRedirectToInvalidTLDFailsAsDNS() async throws {
        var request = HTTPRequest(url: "\(base)/location?to=http://next.invalid:8080/x")
        request.followRedirects = true
        let error = await client.failure(request)
        XCTAssertEqual(error?.kind, .dns)
        XCTAssertNotEqual(error?.curlCode, 6, "stopped before libcurl asked a resolver")
        XCTAssertEqual(error?.partialStatus, 307)
    }

    func testMalformedURLs() async throws {
        for url in ["not a url", "ftp://127.0.0.1/", "file:///etc/passwd", "http://"] {
            let error = await client.failure(HTTPRequest(url: url))
            XCTAssertEqual(error?.kind, .malformedURL, url)
        }
    }

    func testBodyOverCapIsResponseTooLarge() async throws {
        var declared = HTTPRequest(url: "\(base)/bytes/5000")
        declared.maxResponseBodyBytes = 1000
        let declaredError = await client.failure(declared)
        XCTAssertEqual(declaredError?.kind, .responseTooLarge)
        XCTAssertEqual(declaredError?.partialStatus, 200)

        // No Content-Length: the write callback stops it.
        var chunked = HTTPRequest(url: "\(base)/chunked/4")
        chunked.maxResponseBodyBytes = 1500
        var chunkedError: HTTPClientError?
        let took = await elapsed { chunkedError = await client.failure(chunked) }
        XCTAssertEqual(chunkedError?.kind, .responseTooLarge)
        XCTAssertEqual(chunkedError?.partialStatus, 200)
        XCTAssertLessThan(took, .milliseconds(350), "stopped at the second chunk, not the end")

        var exact = HTTPRequest(url: "\(base)/bytes/1000")
        exact.maxResponseBodyBytes = 1000
        let response = try await client.execute(exact)
        XCTAssertEqual(response.body.count, 1000)
    }

    func testRedirectsFollowedOnlyWhenAsked() async throws {
        let plain = try await client.execute(HTTPRequest(url: "\(base)/redirect/3"))
        XCTAssertEqual(plain.status, 307)
        XCTAssertEqual(plain.headers["location"], "/redirect/2")
        XCTAssertEqual(plain.redirectCount, 0)

        var follow = HTTPRequest(url: "\(base)/redirect/3")
        follow.followRedirects = true
        let followed = try await client.execute(follow)
        XCTAssertEqual(followed.status, 200)
        XCTAssertEqual(followed.body, Array("status 200\n".utf8))
        XCTAssertEqual(followed.redirectCount, 3)
        XCTAssertEqual(followed.effectiveURL, "\(base)/status/200")
        XCTAssertNil(followed.headers["location"], "headers are the final response's")

        var tooMany = HTTPRequest(url: "\(base)/redirect/6")
        tooMany.followRedirects = true
        let error = await client.failure(tooMany)
        XCTAssertEqual(error?.kind, .tooManyRedirects)
    }

    func testGarbageReplyAndResetAreTransportErrors() async throws {
        let garbage = await client.failure(HTTPRequest(url: "\(base)/garbage"))
        XCTAssertEqual(garbage?.kind, .invalidHTTP, garbage?.description ?? "")
        let reset = await client.failure(HTTPRequest(url: "\(base)/reset"))
        XCTAssertEqual(reset?.kind, .connectionReset, reset?.description ?? "")
    }

    func testAcceptEncodingDecodesTransparently() async throws {
        var request = HTTPRequest(url: "\(base)/gzip/5000")
        request.acceptEncoding = ""
        let response = try await client.execute(request)
        XCTAssertEqual(response.headers["content-encoding"], "gzip")
        XCTAssertEqual(response.body, Array(repeating: UInt8(ascii: "z"), count: 5000))

        let echo = try Echo(try await client.execute(HTTPRequest(url: "\(base)/echo")))
        XCTAssertNil(echo.header("Accept-Encoding"), "nil sends none")
    }

    func testTimingsAreOrderedAndPhasesNonNegative() async throws {
        var request = HTTPRequest(url: "\(base)/slow-headers/0.05")
        request.freshConnection = true
        let t = try await client.execute(request).timings
        XCTAssertGreaterThanOrEqual(t.nameLookup, .zero)
        XCTAssertLessThanOrEqual(t.nameLookup, t.connect)
        XCTAssertGreaterThan(t.connect, .zero)
        XCTAssertEqual(t.appConnect, .zero, "no TLS")
        XCTAssertLessThanOrEqual(t.connect, t.preTransfer)
        XCTAssertLessThanOrEqual(t.preTransfer, t.startTransfer)
        XCTAssertLessThanOrEqual(t.startTransfer, t.total)
        XCTAssertEqual(t.phases.map(\.name), ["resolve", "connect", "processing", "transfer"])
        XCTAssertTrue(t.phases.allSatisfy { $0.duration >= .zero })
        let processing = t.phases.first { $0.name == "processing" }!.duration
        XCTAssertGreaterThanOrEqual(processing, .milliseconds(45), "the server's sleep is processing time")
    }

    func testConnectionsAreReusedUnlessFresh() async throws {
        let first = try Echo(try await client.execute(HTTPRequest(url: "\(base)/echo")))
        let second = try Echo(try await client.execute(HTTPRequest(url: "\(base)/echo")))
        XCTAssertEqual(first.client_port, second.client_port, "keep-alive")

        var fresh = HTTPRequest(url: "\(base)/echo")
        fresh.freshConnection = true
        let third = try Echo(try await client.execute(fresh))
        let fourth = try Echo(try await client.execute(fresh))
        XCTAssertNotEqual(third.client_port, second.client_port)
        XCTAssertNotEqual(fourth.client_port, third.client_port, "FORBID_REUSE closed the previous one")
    }

    func testFiftyParallelRequests() async throws {
        let client = self.client!, base = self.base
        let statuses = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for i in 0..<50 {
                group.addTask {
                    let response = try await client.execute(HTTPRequest(url: "\(base)/bytes/\(1000 + i)"))
                    return (i, response.body)
                }
            }
            var seen: [Int: [UInt8]] = [:]
            for try await (i, body) in group { seen[i] = body }
            return seen
        }
        XCTAssertEqual(statuses.count, 50)
        for (i, body) in statuses { XCTAssertEqual(body.count, 1000 + i) }
    }

    func testTaskCancellationAbortsExecute() async throws {
        let client = self.client!, base = self.base
        let task = Task { await client.failure(HTTPRequest(url: "\(base)/slow-headers/10")) }
        try await Task.sleep(for: .milliseconds(200))
        var error: HTTPClientError?
        let took = await elapsed {
            task.cancel()
            error = await task.value
        }
        XCTAssertEqual(error?.kind, .cancelled)
        XCTAssertLessThan(took, .seconds(1))
        XCTAssertGreaterThan(error?.timings.connect ?? .zero, .zero)

        let already = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await client.failure(HTTPRequest(url: "\(base)/status/200"))
        }
        let alreadyError = await already.value
        XCTAssertEqual(alreadyError?.kind, .cancelled)
    }

    func testShutdownFailsInFlightAndLaterRequests() async throws {
        let client = HTTPClient(), base = self.base
        let inFlight = Task { await client.failure(HTTPRequest(url: "\(base)/slow-headers/10")) }
        try await Task.sleep(for: .milliseconds(200))
        client.shutdown()
        let error = await inFlight.value
        XCTAssertEqual(error?.kind, .cancelled)
        let later = await client.failure(HTTPRequest(url: "\(base)/status/200"))
        XCTAssertEqual(later?.kind, .cancelled)
        client.shutdown()
    }

    func testZeroTimeoutFailsAtOnce() async throws {
        let error = await client.failure(HTTPRequest(url: "\(base)/status/200", timeout: .zero))
        XCTAssertEqual(error?.kind, .timeout)
    }

    func testHeaderInjectionIsRefused() async throws {
        var request = HTTPRequest(url: "\(base)/echo")
        request.headers.add("X-Bad", "a\r\nInjected: yes")
        let error = await client.failure(request)
        XCTAssertEqual(error?.kind, .other)
        XCTAssertFalse(error?.message.contains("Injected") ?? true)
    }
}
