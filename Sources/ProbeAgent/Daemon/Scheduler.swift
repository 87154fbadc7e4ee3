import ProbeLogic
import Synchronization
import Tracing

/// Runs each target on its interval: start times spread, never two probes of one target at once,
/// at most `maxConcurrency` probes in flight, monotonic clock.
actor Scheduler {
    private var maxConcurrency: Int
    private let execute: @Sendable (TargetSpec) async -> Void
    private let isFailing: @Sendable (String) -> Bool
    private let lateness: Histogram?
    private let skipped: @Sendable (String) -> Void
    private var queue = ScheduleQueue<ContinuousClock.Instant>()
    private var specs: [String: TargetSpec] = [:]
    private var inFlight: Set<String> = []
    private let stopping = Atomic(false)
    /// Beats on every wake-up; `/healthz` reads it (the watchdog).
    nonisolated let heartbeat: Heartbeat
    /// Origin of every target's slot grid.
    private let epoch = ContinuousClock.now
    static let coalescing: Duration = .milliseconds(1)
    /// The longest the loop sleeps, whatever the targets and intervals (no targets at all included).
    static let maxSleep: Duration = .milliseconds(250)

    /// `skipped(name)`: a run fell due while the target's previous probe was still running.
    init(maxConcurrency: Int, lateness: Histogram? = nil, heartbeat: Heartbeat = Heartbeat(limit: .seconds(10)),
         isFailing: @escaping @Sendable (String) -> Bool, skipped: @escaping @Sendable (String) -> Void = { _ in },
         execute: @escaping @Sendable (TargetSpec) async -> Void) {
        self.maxConcurrency = max(1, maxConcurrency)
        self.lateness = lateness
        self.heartbeat = heartbeat
        self.skipped = skipped
        self.isFailing = isFailing
        self.execute = execute
    }

    /// Sets the targets to run. Targets already scheduled keep their slot; new ones are spread.
    func setTargets(_ newSpecs: [TargetSpec]) {
        let now = ContinuousClock.now
        let previous = specs
        specs = Dictionary(newSpecs.map { ($0.target.name, $0) }, uniquingKeysWith: { first, _ in first })
        queue.removeAll { specs[$0.name] == nil || specs[$0.name]?.interval != previous[$0.name]?.interval }
        let scheduled = queue.names
        for spec in newSpecs where !scheduled.contains(spec.target.name) {
            let offset = SchedulePlan.offset(name: spec.target.name, interval: spec.interval)
            queue.insert(spec.target.name, due: SchedulePlan.firstDue(epoch: epoch, offset: offset, interval: spec.interval, now: now))
        }
    }

    var inFlightCount: Int { inFlight.count }

    /// A reload's new limit: a higher one starts waiting probes at the next wake-up (within a few
    /// milliseconds when the old limit was reached); a lower one cuts no probe in flight, it only
    /// starts none until fewer than `limit` run.
    func setMaxConcurrency(_ limit: Int) { maxConcurrency = max(1, limit) }

    /// Runs until cancelled or `stop()`; returns after in-flight probes finish (cancelling the
    /// task cancels them).
    func run() async {
        await withDiscardingTaskGroup { group in
            while !stopping.load(ordering: .relaxed), !Task.isCancelled {
                let now = ContinuousClock.now
                heartbeat.beat(at: now)
                // Start what falls due within the next millisecond too: one wake-up for several
                // probes costs far fewer thread switches than one each.
                while inFlight.count < maxConcurrency, let item = queue.popDue(at: now + Self.coalescing) {
                    guard let spec = specs[item.name] else { continue }
                    let failing = isFailing(item.name)
                    let interval = failing ? (spec.failingInterval ?? spec.interval) : spec.interval
                    queue.insert(item.name, due: SchedulePlan.nextDue(after: item.due, interval: interval, now: now))
                    guard !inFlight.contains(item.name) else {  // still running: skip this slot
                        skipped(item.name)
                        continue
                    }
                    inFlight.insert(item.name)
                    lateness?.record(max(0, (ContinuousClock.now - item.due).seconds))
                    let execute = self.execute
                    let name = item.name
                    group.addTask { [self] in
                        await execute(spec)
                        await finished(name)
                    }
                }
                let wake: ContinuousClock.Instant
                if inFlight.count >= maxConcurrency {
                    wake = now + .milliseconds(2)
                } else {
                    wake = min(queue.next?.due ?? now + Self.maxSleep, now + Self.maxSleep)
                }
                try? await Task.sleep(until: wake, tolerance: Self.coalescing, clock: .continuous)
            }
        }
    }

    /// Starts no more probes; immediate, whatever the loop is doing.
    nonisolated func stop() {
        stopping.store(true, ordering: .relaxed)
        heartbeat.stop()
    }

    private func finished(_ name: String) { inFlight.remove(name) }
}
