import HTTPClient
import Tracing

extension TracedHTTP {
    /// Opens a response whose body stays open (the legacy SSE GET) inside a CLIENT span that lasts
    /// until `TracedStream.close()`, so other exchanges can run while it is open. On failure the
    /// span has already ended with the error recorded.
    public func openStream(_ request: HTTPRequest) async -> Result<TracedStream, HTTPClientError> {
        var request = request
        let span = ClientSpan(tracer: tracer, request: &request, userAgent: userAgent)
        do {
            let response = try await client.stream(request)
            span.recordHead(status: response.status, httpVersion: response.httpVersion)
            return .success(TracedStream(response: response, span: span))
        } catch {
            let error = error as? HTTPClientError
                ?? HTTPClientError(kind: .other, message: "unexpected error")
            span.end(timings: error.timings, error: error, status: nil)
            return .failure(error)
        }
    }
}

extension TracedHTTP {
    /// One buffered exchange in a CLIENT span. Unlike `send`, it returns the whole `HTTPResponse`
    /// (peer certificate, redirect count).
    public func fetch(_ request: HTTPRequest) async -> Result<HTTPResponse, HTTPClientError> {
        var request = request
        let span = ClientSpan(tracer: tracer, request: &request, userAgent: userAgent)
        do {
            let response = try await client.execute(request)
            span.recordHead(status: response.status, httpVersion: response.httpVersion)
            span.end(timings: response.timings, error: nil, status: response.status)
            return .success(response)
        } catch {
            if let status = error.partialStatus { span.recordHead(status: status, httpVersion: nil) }
            span.end(timings: error.timings, error: error, status: error.partialStatus)
            return .failure(error)
        }
    }
}

/// An open streaming response and its CLIENT span. Read by one task; `close()` (or release)
/// aborts the transfer and ends the span.
public final class TracedStream {
    public let status: Int
    public let headers: HTTPHeaders
    /// Why reading stopped early, when the transfer failed (timeout, reset, over the cap).
    public private(set) var failure: HTTPClientError?

    private let response: HTTPStreamingResponse
    private let span: ClientSpan
    private var chunks: AsyncThrowingStream<[UInt8], Error>.Iterator
    private var parser = SSEParser()
    private var pending: [SSEEvent] = []
    private var closed = false

    init(response: HTTPStreamingResponse, span: ClientSpan) {
        self.response = response
        self.span = span
        status = response.status
        headers = response.headers
        chunks = response.body.makeAsyncIterator()
    }

    /// The server's leaf certificate, when the request asked for it.
    public var peerCertificate: PeerCertificate? { response.peerCertificate }

    /// Phase timings so far (connection setup and first byte are known once the head arrived).
    public var timings: PhaseTimings { response.timings() }

    public var isSSE: Bool { headers["content-type"]?.lowercased().hasPrefix("text/event-stream") == true }

    /// The next server-sent event; nil when the stream ended or failed (see `failure`).
    public func nextEvent() async -> SSEEvent? {
        while pending.isEmpty {
            guard let chunk = await nextChunk() else { return nil }
            pending = parser.feed(chunk)
        }
        return pending.removeFirst()
    }

    /// Up to `limit` bytes of the body (for explaining a non-SSE answer).
    public func readBody(limit: Int) async -> [UInt8] {
        var body: [UInt8] = []
        while body.count < limit, let chunk = await nextChunk() { body.append(contentsOf: chunk) }
        return Array(body.prefix(limit))
    }

    /// Aborts the transfer (for legacy SSE this ends the server's session) and ends the span. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        response.cancel()
        span.end(timings: response.timings(), error: failure, status: status)
    }

    private func nextChunk() async -> [UInt8]? {
        guard !closed, failure == nil else { return nil }
        do {
            return try await chunks.next()
        } catch {
            failure = error as? HTTPClientError ?? HTTPClientError(kind: .other, message: "unexpected error")
            return nil
        }
    }

    deinit { close() }
}
