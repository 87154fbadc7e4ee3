import Foundation
import HTTPClient

/// The HTTP boundary: `HTTPClient` in production, a scripted fake in tests.
package protocol OTLPTransport: Sendable {
    func execute(_ request: HTTPRequest) async throws -> HTTPResponse
}

extension HTTPClient: OTLPTransport {}

/// Time as the exporter sees it; injectable so retry timing is testable without waiting.
package struct ExportClock: Sendable {
    package var now: @Sendable () -> ContinuousClock.Instant
    /// For Retry-After HTTP-dates.
    package var wallNow: @Sendable () -> Date
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(now: @escaping @Sendable () -> ContinuousClock.Instant,
                wallNow: @escaping @Sendable () -> Date,
                sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.wallNow = wallNow
        self.sleep = sleep
    }

    package static let system = ExportClock(now: { ContinuousClock.now }, wallNow: { Date() },
                                           sleep: { try await Task.sleep(for: $0) })
}
