import Foundation

/// State behind a pthread-based lock. Used instead of Synchronization.Mutex, whose futex
/// implementation ThreadSanitizer cannot see on Linux (every access would be reported as a race).
final class Locked<State>: @unchecked Sendable {
    private let lock = NSLock()
    private var state: State

    init(_ state: State) { self.state = state }

    func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }
}
