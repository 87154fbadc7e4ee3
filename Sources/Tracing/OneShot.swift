import Synchronization

/// One value handed to one waiting task by whichever comes first: `fire(_:)` from any thread,
/// or a deadline. The building block for every bounded wait in this module.
final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var fired = false
        var continuation: CheckedContinuation<Value, Never>?
    }

    private let state = Mutex(State())

    /// The first call wins; later calls are ignored. Never blocks.
    func fire(_ value: Value) {
        let continuation = state.withLock { s -> CheckedContinuation<Value, Never>? in
            guard !s.fired else { return nil }
            s.fired = true
            s.value = value
            defer { s.continuation = nil }
            return s.continuation
        }
        continuation?.resume(returning: value)
    }

    /// Waits for `fire`, or until `deadline`, when `timeoutValue` is fired instead. Call once.
    func value(until deadline: ContinuousClock.Instant, timeoutValue: Value) async -> Value {
        let timer = Task { [self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            fire(timeoutValue)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { c in
            let ready = state.withLock { s -> Value? in
                guard s.fired else { s.continuation = c; return nil }
                return s.value
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}

/// Runs `operation` in its own task and waits for it until `deadline`. On timeout the task is
/// cancelled and abandoned (an operation that ignores cancellation keeps running) and nil returned.
func untilDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant,
                                _ operation: @escaping @Sendable () async -> T) async -> T? {
    let shot = OneShot<T?>()
    let work = Task { shot.fire(await operation()) }
    let result = await shot.value(until: deadline, timeoutValue: nil)
    if result == nil { work.cancel() }
    return result
}

/// Wakes one long-lived worker. `notify` never blocks and is remembered if nobody waits.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: OneShot<Void>?
    }

    private let state = Mutex(State())

    public init() {}

    public func notify() {
        let waiter = state.withLock { s -> OneShot<Void>? in
            guard let w = s.waiter else { s.pending = true; return nil }
            s.waiter = nil
            return w
        }
        waiter?.fire(())
    }

    /// Returns at the next `notify` (or a pending one) or at `deadline`.
    public func wait(until deadline: ContinuousClock.Instant) async {
        let shot = OneShot<Void>()
        let alreadyNotified = state.withLock { s -> Bool in
            if s.pending { s.pending = false; return true }
            s.waiter = shot
            return false
        }
        if alreadyNotified { return }
        await shot.value(until: deadline, timeoutValue: ())
        state.withLock { s in if s.waiter === shot { s.waiter = nil } }
    }
}
