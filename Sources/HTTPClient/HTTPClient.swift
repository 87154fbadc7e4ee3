/// HTTP over libcurl: one event-loop thread and one multi handle per client, shared by all its requests.
public final class HTTPClient: Sendable {
    public static let shared = HTTPClient()

    let loop = CurlEventLoop()

    public init() {}

    /// The loop thread as a task executor: a task that prefers it (`Task(executorPreference:)`,
    /// `addTask(executorPreference:)`) runs its requests and what it does with the answers on
    /// that one thread, without a thread wake-up per request.
    public var taskExecutor: any TaskExecutor { loop }

    deinit { loop.shutdown() }

    /// Sends the request and buffers the whole response. Task cancellation aborts it as `.cancelled`.
    public func execute(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        if let error = request.preflightError() { throw error }
        let transfer = CurlTransfer(request: request)
        let loop = self.loop
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.sink = .buffered(continuation)
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        return try result.get()
    }

    /// Sends the request and returns once the final response head has arrived; the body follows as a stream.
    public func stream(_ request: HTTPRequest) async throws -> HTTPStreamingResponse {
        if let error = request.preflightError() { throw error }
        let transfer = CurlTransfer(request: request)
        let loop = self.loop
        let channel = BodyChannel { loop.cancel(transfer) }
        let head = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                transfer.sink = .streaming(head: continuation, body: channel)
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
        return HTTPStreamingResponse(head: try head.get(), channel: channel, transfer: transfer, client: self)
    }

    /// Stops the loop thread; transfers in flight fail with `.cancelled`, later ones at once.
    public func shutdown() { loop.shutdown() }
}

public final class HTTPStreamingResponse: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let httpVersion: String?
    /// The leaf certificate, when the request asked for it (`captureCertificate`) over TLS.
    public let peerCertificate: PeerCertificate?
    /// Chunks as they arrive, capped in total by `maxResponseBodyBytes`; throws `HTTPClientError`.
    /// Cancelling the iterating task aborts the transfer and throws `.cancelled`.
    public let body: AsyncThrowingStream<[UInt8], Error>

    private let transfer: CurlTransfer
    /// Kept alive while the body may still be read: releasing the client would stop its loop.
    private let client: HTTPClient

    init(head: CurlTransfer.Head, channel: BodyChannel, transfer: CurlTransfer, client: HTTPClient) {
        status = head.status
        headers = head.headers
        httpVersion = head.httpVersion
        peerCertificate = head.peerCertificate
        body = AsyncThrowingStream(unfolding: { try await channel.next() })
        self.transfer = transfer
        self.client = client
    }

    /// Aborts the transfer; idempotent. Dropping the response does the same.
    public func cancel() { client.loop.cancel(transfer) }

    /// Timings so far; final once the body has ended or the transfer was cancelled.
    public func timings() -> PhaseTimings { transfer.timingsSnapshot.withLock { $0 } }

    deinit { client.loop.cancel(transfer) }
}
