#if canImport(Glibc)
import Glibc
#endif
import HTTPClient
import ProbeLogic
import Synchronization
import Tracing

// Where a probe's CPU goes, layer by layer, against a live HTTP server (`scripts/bench-probe`
// starts nginx and passes its URL): the HTTP client alone, the client on its loop thread, then
// the whole probe (spans, classification) with the spans discarded; each flat out (20 in flight)
// and, where it matters, paced as the daemon starts probes. Process CPU per request.

private struct DiscardSpans: SpanProcessor {
    func onEnd(_ span: SpanData) {}
    func forceFlush(deadline: ContinuousClock.Instant) async {}
    func shutdown(deadline: ContinuousClock.Instant) async {}
}

/// Voluntary and involuntary context switches of the whole process so far.
private func contextSwitches() -> (voluntary: Int, involuntary: Int) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return (usage.ru_nvcsw, usage.ru_nivcsw)
}

private func report(_ label: String, total: Int, failures: Int, cpuStart: UInt64, switchesStart: (voluntary: Int, involuntary: Int)) {
    let perOperation = Double(cpuNanos(CLOCK_PROCESS_CPUTIME_ID) - cpuStart) / Double(total) / 1000
    let switches = contextSwitches()
    let voluntary = Double(switches.voluntary - switchesStart.voluntary) / Double(total)
    let involuntary = Double(switches.involuntary - switchesStart.involuntary) / Double(total)
    print("\(label): \(fmt(perOperation)) us CPU per request; context switches per request: \(fmt(voluntary)) voluntary, "
          + "\(fmt(involuntary)) involuntary (\(total) requests, \(failures) failed)")
}

/// `PROBE_BENCH_ONLY=text` runs only the measurements whose label contains it (to profile one).
private func selected(_ label: String) -> Bool {
    guard let only = getenv("PROBE_BENCH_ONLY").map({ String(cString: $0) }) else { return true }
    return label.contains(only)
}

/// Runs `total` operations, `concurrency` at a time, each task optionally on `executor`.
private func measure(_ label: String, total: Int, concurrency: Int, executor: (any TaskExecutor)?,
                     _ operation: @escaping @Sendable () async -> Bool) async {
    guard selected(label) else { return }
    let (start, switches) = (cpuNanos(CLOCK_PROCESS_CPUTIME_ID), contextSwitches())
    let failures = await withTaskGroup(of: Int.self) { group in
        for worker in 0..<concurrency {
            let share = total / concurrency + (worker < total % concurrency ? 1 : 0)
            group.addTask(executorPreference: executor) {
                var failed = 0
                for _ in 0..<share where !(await operation()) { failed += 1 }
                return failed
            }
        }
        return await group.reduce(0, +)
    }
    report(label, total: total, failures: failures, cpuStart: start, switchesStart: switches)
}

/// As the daemon paces 1,000 targets at 1 s: `perSlot` operations started together every 20 ms,
/// by a pacing task on `executor` (as the daemon's scheduler) whose children are discarded.
private func measurePaced(_ label: String, total: Int, perSlot: Int, executor: (any TaskExecutor)?,
                          _ operation: @escaping @Sendable () async -> Bool) async {
    guard selected(label) else { return }
    let (start, switches) = (cpuNanos(CLOCK_PROCESS_CPUTIME_ID), contextSwitches())
    final class Failures: Sendable { let count = Atomic<Int>(0) }
    let failures = Failures()
    await Task(executorPreference: executor) {
        await withDiscardingTaskGroup { group in
            var due = ContinuousClock.now
            for _ in 0..<(total / perSlot) {
                try? await Task.sleep(until: due, clock: .continuous)
                due += .milliseconds(20)
                for _ in 0..<perSlot {
                    group.addTask { if !(await operation()) { failures.count.add(1, ordering: .relaxed) } }
                }
            }
        }
    }.value
    report(label, total: total, failures: failures.count.load(ordering: .relaxed), cpuStart: start, switchesStart: switches)
}

func runProbeBenchmarks() async throws {
    guard let url = getenv("PROBE_BENCH_URL").map({ String(cString: $0) }) else {
        print("probe: set PROBE_BENCH_URL to a local HTTP server (scripts/bench-probe does)")
        return
    }
    let total = getenv("PROBE_BENCH_REQUESTS").flatMap { Int(String(cString: $0)) } ?? 20_000
    let client = HTTPClient.shared
    var request = HTTPRequest(url: url, timeout: .milliseconds(800))
    request.freshConnection = true
    let fetch: @Sendable () async -> Bool = { [request] in
        (try? await client.execute(request))?.status == 200
    }
    await measure("probe, HTTP client only", total: total, concurrency: 20, executor: nil, fetch)
    await measure("probe, HTTP client on its loop thread", total: total, concurrency: 20,
                  executor: client.taskExecutor, fetch)
    await measurePaced("probe, HTTP client on its loop thread, paced 20 every 20 ms", total: total, perSlot: 20,
                       executor: client.taskExecutor, fetch)
    let runner = ProbeRunner(client: client, tracer: Tracer(scope: .bench, processor: DiscardSpans()), clientVersion: "bench")
    let target = Target(name: "bench", url: url, kind: .http(HTTPCheck()), timeout: .milliseconds(800))
    await measure("probe, whole HTTP probe (spans discarded) on the loop thread", total: total, concurrency: 20,
                  executor: client.taskExecutor) {
        await runner.run(target).report.outcome.health.isSuccess
    }
    await measurePaced("probe, whole HTTP probe, paced 20 every 20 ms (1,000/s) as the daemon starts them",
                       total: total, perSlot: 20, executor: client.taskExecutor) {
        await runner.run(target).report.outcome.health.isSuccess
    }
}

extension InstrumentationScope {
    static let bench = InstrumentationScope(name: "probe-bench")
}
