import Foundation
import HTTPClient

/// The HTTP boundary: `HTTPClient` in production, a scripted fake in tests.
public protocol OTLPTransport: Sendable {
    func execute(_ request: HTTPRequest) async throws -> HTTPResponse
}

extension HTTPClient: OTLPTransport {}

/// Time as the exporter sees it; injectable so retry timing is testable without waiting.
public struct ExportClock: Sendable {
    public var now: @Sendable () -> ContinuousClock.Instant
    /// For Retry-After HTTP-dates.
    public var wallNow: @Sendable () -> Date
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(now: @escaping @Sendable () -> ContinuousClock.Instant,
                wallNow: @escaping @Sendable () -> Date,
                sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.wallNow = wallNow
        self.sleep = sleep
    }

    public static let system = ExportClock(now: { ContinuousClock.now }, wallNow: { Date() },
                                           sleep: { try await Task.sleep(for: $0) })
}
