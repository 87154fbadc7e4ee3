/// When each target runs next: a min-heap of due instants. A pure value, tested without clocks.
struct ScheduleQueue<Instant: Comparable> {
    struct Item {
        var due: Instant
        var name: String
    }

    private var heap: [Item] = []

    var count: Int { heap.count }
    var next: Item? { heap.first }

    mutating func insert(_ name: String, due: Instant) {
        heap.append(Item(due: due, name: name))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].due < heap[parent].due else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes and returns the earliest item if it is due at `now`.
    mutating func popDue(at now: Instant) -> Item? {
        guard let first = heap.first, first.due <= now else { return nil }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var i = 0
        while true {
            let left = 2 * i + 1, right = left + 1
            var smallest = i
            if left < heap.count, heap[left].due < heap[smallest].due { smallest = left }
            if right < heap.count, heap[right].due < heap[smallest].due { smallest = right }
            if smallest == i { break }
            heap.swapAt(i, smallest)
            i = smallest
        }
        return first
    }

    mutating func removeAll(where shouldRemove: (Item) -> Bool) {
        let kept = heap.filter { !shouldRemove($0) }
        heap = []
        for item in kept { insert(item.name, due: item.due) }
    }

    var names: Set<String> { Set(heap.map(\.name)) }
}

/// Spreading and pacing rules of the scheduler (pure).
enum SchedulePlan {
    /// Start times sit on a grid of 20 ms slots. A fleet is still spread over its interval, and
    /// the targets that share a slot start on one wake-up: each wake-up of the probe thread has a
    /// fixed cost (BENCHMARKS.md, Daemon: wider slots cost less CPU per probe, start later, and
    /// send bigger bursts).
    static let slot: Duration = .milliseconds(20)

    /// A target's place within its interval: a slot chosen by a stable hash of its name, so a
    /// fleet does not probe in one burst at start or after a reload.
    static func offset(name: String, interval: Duration) -> Duration {
        let slots = max(1, Int((interval / slot).rounded(.down)))
        return slot * Double(Shard.fnv1a64(name) % UInt64(slots))
    }

    /// The target's first run: the earliest instant at or after `now` on its grid
    /// (`epoch + offset + k × interval`), so targets added by a reload line up with those running.
    static func firstDue<Instant: InstantProtocol>(epoch: Instant, offset: Duration, interval: Duration, now: Instant) -> Instant
        where Instant.Duration == Duration {
        let start = epoch.advanced(by: offset)
        guard now > start else { return start }
        let periods = (start.duration(to: now) / interval).rounded(.up)
        let due = start.advanced(by: interval * periods)
        return due < now ? due.advanced(by: interval) : due  // rounding of the division
    }

    /// Fixed rate: the next run is one interval after the previous due time; runs missed while
    /// the agent was behind are skipped rather than fired in a burst.
    static func nextDue(after due: ContinuousClock.Instant, interval: Duration,
                        now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let next = due + interval
        if next >= now { return next }
        let behind = now - due
        let skipped = (behind / interval).rounded(.down) + 1
        return due + interval * skipped
    }
}
