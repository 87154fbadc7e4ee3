import Foundation
import HTTPClient
import TestSupport
import XCTest

final class StreamingTests: HTTPFixtureTestCase {
    func testChunksArriveIncrementally() async throws {
        let start = ContinuousClock.now
        let response = try await client.stream(HTTPRequest(url: "\(base)/chunked/5"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["transfer-encoding"], "chunked")
        XCTAssertEqual(response.httpVersion, "1.1")
        var arrivals: [Duration] = []
        var body: [UInt8] = []
        for try await chunk in response.body {
            arrivals.append(ContinuousClock.now - start)
            body.append(contentsOf: chunk)
        }
        XCTAssertEqual(body.count, 5 * 1024)
        XCTAssertEqual(body.first, 0)
        XCTAssertEqual(body.last, 4)
        XCTAssertGreaterThanOrEqual(arrivals.count, 3, "chunks are not buffered to the end")
        XCTAssertGreaterThanOrEqual(arrivals.last! - arrivals.first!, .milliseconds(300), "the first chunk came before the last was sent")
        let t = response.timings()
        XCTAssertGreaterThanOrEqual(t.total, t.startTransfer)
        XCTAssertGreaterThanOrEqual(t.total - t.startTransfer, .milliseconds(300))
    }

    func testSilentSSEReturnsHeadBeforeAnyBodyByte() async throws {
        var request = HTTPRequest(url: "\(base)/sse/silent", timeout: .seconds(20))
        request.headers.add("Accept", "text/event-stream")
        var response: HTTPStreamingResponse?
        let took = try await elapsed { response = try await client.stream(request) }
        XCTAssertLessThan(took, .seconds(2))
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.headers["content-type"], "text/event-stream")
        XCTAssertGreaterThan(response?.timings().startTransfer ?? .zero, .zero)

        // cancel() from elsewhere ends a pending iteration promptly, with .cancelled.
        let body = response!.body
        let reader = Task { () -> HTTPClientError.Kind? in
            do {
                for try await _ in body {}
                return nil
            } catch {
                return (error as? HTTPClientError)?.kind
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let cancelTook = await elapsed {
            response?.cancel()
            let kind = await reader.value
            XCTAssertEqual(kind, .cancelled)
        }
        XCTAssertLessThan(cancelTook, .seconds(1))
        response?.cancel()  // idempotent
    }

    func testSSEEndpointEventThenCancel() async throws {
        let response = try await client.stream(HTTPRequest(url: "\(base)/sse/endpoint", timeout: .seconds(20)))
        var iterator = response.body.makeAsyncIterator()
        let first = try await iterator.next()
        XCTAssertEqual(String(decoding: first ?? [], as: UTF8.self), "event: endpoint\ndata: /messages/?session_id=abc\n\n")
        response.cancel()
        do {
            let next = try await iterator.next()
            XCTFail("expected .cancelled, got \(String(describing: next))")
        } catch {
            XCTAssertEqual((error as? HTTPClientError)?.kind, .cancelled)
        }
        let afterError = try await iterator.next()
        XCTAssertNil(afterError, "an iterator that threw ends")
        let t = response.timings()
        XCTAssertGreaterThan(t.total, .zero)
        XCTAssertGreaterThanOrEqual(t.total, t.startTransfer)
    }

    func testTaskCancellationOfConsumptionAbortsAndThrows() async throws {
        let response = try await client.stream(HTTPRequest(url: "\(base)/sse/silent", timeout: .seconds(20)))
        let body = response.body
        let reader = Task { () -> HTTPClientError.Kind? in
            do {
                for try await _ in body {}
                return nil
            } catch {
                return (error as? HTTPClientError)?.kind
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let took = await elapsed {
            reader.cancel()
            let kind = await reader.value
            XCTAssertEqual(kind, .cancelled)
        }
        XCTAssertLessThan(took, .seconds(1))
    }

    func testTaskCancellationWhileWaitingForHead() async throws {
        let client = self.client!, base = self.base
        let task = Task { () -> HTTPClientError.Kind? in
            do {
                _ = try await client.stream(HTTPRequest(url: "\(base)/slow-headers/10"))
                return nil
            } catch {
                return (error as? HTTPClientError)?.kind
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let kind = await task.value
        XCTAssertEqual(kind, .cancelled)
    }

    func testResponseKeepsItsClientAlive() async throws {
        let response = try await HTTPClient().stream(HTTPRequest(url: "\(base)/chunked/3"))
        var total = 0
        for try await chunk in response.body { total += chunk.count }
        XCTAssertEqual(total, 3 * 1024)
        let status = try await HTTPClient().execute(HTTPRequest(url: "\(base)/status/200")).status
        XCTAssertEqual(status, 200)
    }

    func testBodylessResponseStillReturns() async throws {
        let response = try await client.stream(HTTPRequest(url: "\(base)/status/204"))
        XCTAssertEqual(response.status, 204)
        var chunks = 0
        for try await _ in response.body { chunks += 1 }
        XCTAssertEqual(chunks, 0)
    }

    func testFollowedRedirectStreamsFinalResponse() async throws {
        var request = HTTPRequest(url: "\(base)/redirect/2")
        request.followRedirects = true
        let response = try await client.stream(request)
        XCTAssertEqual(response.status, 200)
        XCTAssertNil(response.headers["location"])
        var body: [UInt8] = []
        for try await chunk in response.body { body += chunk }
        XCTAssertEqual(body, Array("status 200\n".utf8))
    }

    func testStreamCapStopsTheBody() async throws {
        var request = HTTPRequest(url: "\(base)/chunked/4")
        request.maxResponseBodyBytes = 1500
        let response = try await client.stream(request)
        XCTAssertEqual(response.status, 200)
        var received = 0
        do {
            for try await chunk in response.body { received += chunk.count }
            XCTFail("expected responseTooLarge")
        } catch let error as HTTPClientError {
            XCTAssertEqual(error.kind, .responseTooLarge)
            XCTAssertEqual(error.partialStatus, 200)
        }
        XCTAssertLessThanOrEqual(received, 1500)

        var declared = HTTPRequest(url: "\(base)/bytes/5000")
        declared.maxResponseBodyBytes = 1000
        do {
            _ = try await client.stream(declared)
            XCTFail("expected responseTooLarge")
        } catch let error as HTTPClientError {
            XCTAssertEqual(error.kind, .responseTooLarge)
            XCTAssertEqual(error.partialStatus, 200)
        }
    }

    func testFailureBeforeHeadThrowsFromStream() async throws {
        let port = try freeLoopbackPort()
        do {
            _ = try await client.stream(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
            XCTFail("expected connectionRefused")
        } catch let error as HTTPClientError {
            XCTAssertEqual(error.kind, .connectionRefused)
        }
        do {
            _ = try await client.stream(HTTPRequest(url: "http://sse.invalid/"))
            XCTFail("expected dns")
        } catch let error as HTTPClientError {
            XCTAssertEqual(error.kind, .dns)
        }
    }

    func testDroppedResponseAbortsTheTransfer() async throws {
        try await waitForOpenStreams(0)
        do {
            let response = try await client.stream(HTTPRequest(url: "\(base)/sse/silent", timeout: .seconds(20)))
            XCTAssertEqual(response.status, 200)
            try await waitForOpenStreams(1)
        }
        try await waitForOpenStreams(0)
    }

    func testCancelClosesTheConnection() async throws {
        try await waitForOpenStreams(0)
        let response = try await client.stream(HTTPRequest(url: "\(base)/sse/endpoint", timeout: .seconds(20)))
        try await waitForOpenStreams(1)
        response.cancel()
        try await waitForOpenStreams(0)
    }

    /// Polls the fixture until it holds `count` SSE streams open; fails after 3 s.
    private func waitForOpenStreams(_ count: Int, file: StaticString = #filePath, line: UInt = #line) async throws {
        let deadline = ContinuousClock.now + .seconds(3)
        var seen = -1
        while ContinuousClock.now < deadline {
            let stats = try await client.execute(HTTPRequest(url: "\(base)/stats"))
            seen = (try JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Int])?["open_streams"] ?? -1
            if seen == count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("fixture holds \(seen) open streams, expected \(count)", file: file, line: line)
    }
}
