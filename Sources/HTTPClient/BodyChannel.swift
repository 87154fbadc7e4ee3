
/// Hands body chunks from the loop thread to one consumer, in order. Unbounded, but the producer
/// stops at the request's body cap.
final class BodyChannel: Sendable {
    private enum End { case finished, failed(HTTPClientError), reported }

    private struct State {
        var chunks: [[UInt8]] = []
        var readIndex = 0
        var end: End?
        var waiter: CheckedContinuation<[UInt8]?, any Error>?

        /// nil = nothing yet, wait.
        mutating func take() -> Result<[UInt8]?, HTTPClientError>? {
            if readIndex < chunks.count {
                defer {
                    readIndex += 1
                    if readIndex == chunks.count { chunks.removeAll(keepingCapacity: true); readIndex = 0 }
                }
                return .success(chunks[readIndex])
            }
            switch end {
            case nil: return nil
            case .failed(let error)?:
                end = .reported  // an iterator that threw returns nil afterwards
                return .failure(error)
            case .finished?, .reported?: return .success(nil)
            }
        }
    }

    private let state = Locked(State())
    private let onCancel: @Sendable () -> Void

    init(onCancel: @escaping @Sendable () -> Void) { self.onCancel = onCancel }

    func push(_ chunk: [UInt8]) {
        let waiter: CheckedContinuation<[UInt8]?, any Error>? = state.withLock { s in
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.chunks.append(chunk)
            return nil
        }
        waiter?.resume(returning: chunk)
    }

    /// Ends the stream, with `error` if the transfer failed. Only the first call counts.
    func finish(_ error: HTTPClientError?) {
        let (waiter, result): (CheckedContinuation<[UInt8]?, any Error>?, Result<[UInt8]?, HTTPClientError>?) = state.withLock { s in
            guard s.end == nil else { return (nil, nil) }
            s.end = error.map { .failed($0) } ?? .finished
            guard let waiter = s.waiter else { return (nil, nil) }
            s.waiter = nil
            return (waiter, s.take())
        }
        if let waiter, let result { waiter.resume(with: result.mapError { $0 as any Error }) }
    }

    /// The next chunk, nil at the end. Task cancellation aborts the transfer and throws `.cancelled`.
    func next() async throws -> [UInt8]? {
        if let ready = state.withLock({ $0.take() }) { return try ready.get() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
                let ready: Result<[UInt8]?, HTTPClientError>? = state.withLock { s in
                    if s.waiter != nil {
                        return .failure(HTTPClientError(kind: .other, message: "body iterated concurrently"))
                    }
                    let ready = s.take()
                    if ready == nil { s.waiter = continuation }
                    return ready
                }
                if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
            }
        } onCancel: {
            onCancel()
        }
    }
}
