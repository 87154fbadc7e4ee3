import HTTPClient
import Tracing

/// How much of a response body to read.
public enum BodyReading: Sendable {
    /// Everything, up to the request's size cap.
    case all
    /// For `text/event-stream` answers: read events until `stop` returns true, then cancel the
    /// transfer (servers only SHOULD close the stream). Other content types are read whole.
    case sseUntil(@Sendable (SSEEvent) -> Bool)
}

/// One HTTP exchange as a probe saw it.
public struct Exchange: Sendable {
    public var status: Int?
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The SSE event that ended reading, when reading stopped on one.
    public var matchedEvent: SSEEvent?
    public var error: HTTPClientError?
    public var timings: PhaseTimings
    public var startUnixNano: UInt64
    /// The server's leaf certificate, when the request asked for it.
    public var peerCertificate: PeerCertificate?
    /// `1.1` or `2`, once the response head arrived.
    public var httpVersion: String?

    public var isSSE: Bool { headers["content-type"]?.lowercased().hasPrefix("text/event-stream") == true }
}

/// Runs HTTP exchanges, each in a CLIENT span named by the method (HTTP semantic conventions),
/// with `traceparent` from that span injected so a traced target joins the probe's trace.
public struct TracedHTTP: Sendable {
    public let client: HTTPClient
    public let tracer: Tracer
    public let userAgent: String

    public init(client: HTTPClient, tracer: Tracer, userAgent: String) {
        self.client = client
        self.tracer = tracer
        self.userAgent = userAgent
    }

    public func send(_ request: HTTPRequest, reading: BodyReading = .all) async -> Exchange {
        var request = request
        let span = ClientSpan(tracer: tracer, request: &request, userAgent: userAgent)
        var exchange = Exchange(status: nil, headers: HTTPHeaders(), body: [], matchedEvent: nil, error: nil,
                                timings: .zero, startUnixNano: span.startUnixNano)
        do {
            let response = try await client.stream(request)
            exchange.status = response.status
            exchange.headers = response.headers
            exchange.peerCertificate = response.peerCertificate
            exchange.httpVersion = response.httpVersion
            span.recordHead(status: response.status, httpVersion: response.httpVersion)
            try await read(response, into: &exchange, reading: reading)
            exchange.timings = response.timings()
        } catch let error as HTTPClientError {
            exchange.error = error
            exchange.timings = error.timings
        } catch {
            exchange.error = HTTPClientError(kind: .other, curlCode: 0, message: "unexpected error", partialStatus: nil, timings: .zero)
        }
        span.end(timings: exchange.timings, error: exchange.error, status: exchange.status)
        return exchange
    }

    private func read(_ response: HTTPStreamingResponse, into exchange: inout Exchange, reading: BodyReading) async throws {
        if case .sseUntil(let stop) = reading, exchange.isSSE {
            var parser = SSEParser()
            for try await chunk in response.body {
                for event in parser.feed(chunk) where stop(event) {
                    exchange.matchedEvent = event
                    response.cancel()
                    return
                }
            }
            return
        }
        for try await chunk in response.body { exchange.body.append(contentsOf: chunk) }
    }
}

/// A CLIENT span for one HTTP exchange, recorded as `TracedHTTP.send` records it (HTTP semantic
/// conventions, phase events, `traceparent` from this span injected into the request).
struct ClientSpan {
    let span: Span
    let startUnixNano: UInt64

    init(tracer: Tracer, request: inout HTTPRequest, userAgent: String) {
        let attributes = [Attribute("http.request.method", .string(request.method))] + URLSpanAttributes.of(request.url)
        span = tracer.startSpan(request.method, kind: .client, attributes: attributes)
        startUnixNano = wallClockUnixNano()
        request.headers.add("traceparent", W3CTraceContext.traceparent(span.context))
        if request.headers["user-agent"] == nil { request.headers.add("User-Agent", userAgent) }
    }

    func recordHead(status: Int, httpVersion: String?) {
        span.setAttribute("http.response.status_code", .int(status))
        if let httpVersion { span.setAttribute("network.protocol.version", .string(httpVersion)) }
    }

    func end(timings t: PhaseTimings, error: HTTPClientError?, status: Int?) {
        func at(_ d: Duration) -> UInt64 { startUnixNano &+ UInt64(max(0, d.nanoseconds)) }
        for (name, cumulative, phase) in [("dns", t.nameLookup, t.nameLookup),
                                          ("connect", t.connect, t.connect - t.nameLookup),
                                          ("tls", t.appConnect, t.appConnect - t.connect),
                                          ("first_byte", t.startTransfer, t.startTransfer)]
        where cumulative > .zero {
            span.addEvent(name, attributes: [Attribute("duration_ms", .double(max(0, phase.milliseconds)))],
                          timeUnixNano: at(cumulative))
        }
        if let error {
            span.setAttribute("error.type", .string(error.kind.rawValue))
            span.setStatus(.error(error.kind.rawValue))
        } else if let status, status >= 400 {
            span.setAttribute("error.type", .string(String(status)))
            span.setStatus(.error(""))
        }
        span.end()
    }
}
