import Synchronization

/// FIFO mutual exclusion for async callers: one export in flight per signal.
final class ExportGate: Sendable {
    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let enter = state.withLock { s -> Bool in
                if s.busy {
                    s.waiters.append(c)
                    return false
                }
                s.busy = true
                return true
            }
            if enter { c.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.busy = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
