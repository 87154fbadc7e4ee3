import Synchronization

/// The scheduler's sign of life for `/healthz` (the watchdog): the scheduler beats on every
/// wake-up, at least every `Scheduler.maxSleep`, on the thread the probes run on. Silent for
/// longer than `limit` means that thread is stuck, and the agent should be restarted.
final class Heartbeat: Sendable {
    let limit: Duration
    private let origin: ContinuousClock.Instant
    /// Nanoseconds from `origin` to the last beat.
    private let lastBeat = Atomic<Int64>(0)
    private let stopped = Atomic(false)

    init(limit: Duration, origin: ContinuousClock.Instant = .now) {
        self.limit = limit
        self.origin = origin
    }

    func beat(at now: ContinuousClock.Instant = .now) {
        lastBeat.store((now - origin).nanoseconds, ordering: .relaxed)
    }

    /// A scheduler that was told to stop is not a stuck one.
    func stop() { stopped.store(true, ordering: .relaxed) }

    func isAlive(at now: ContinuousClock.Instant = .now) -> Bool {
        stopped.load(ordering: .relaxed) || (now - origin).nanoseconds - lastBeat.load(ordering: .relaxed) <= limit.nanoseconds
    }
}
