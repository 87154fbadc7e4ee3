#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Tracing

// Tracing hot-path costs. CPU time, not wall time: the machine is shared.

func cpuNanos(_ clock: clockid_t) -> UInt64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Runs `body` and reports CPU ns per operation for the calling thread and the whole process.
private func measure(_ label: String, operations: Int, _ body: () -> Void) -> (thread: Double, process: Double) {
    let (t0, p0) = (cpuNanos(CLOCK_THREAD_CPUTIME_ID), cpuNanos(CLOCK_PROCESS_CPUTIME_ID))
    body()
    let (t1, p1) = (cpuNanos(CLOCK_THREAD_CPUTIME_ID), cpuNanos(CLOCK_PROCESS_CPUTIME_ID))
    let thread = Double(t1 - t0) / Double(operations), process = Double(p1 - p0) / Double(operations)
    print("\(label): \(fmt(thread)) ns/op thread CPU, \(fmt(process)) ns/op process CPU (\(operations) ops)")
    return (thread, process)
}

/// Resident set size from /proc/self/statm (second field, in pages).
private func residentBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let n = read(fd, &buffer, buffer.count)
    let fields = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func fmt(_ v: Double) -> String {
    let rounded = (v * 10).rounded() / 10
    return String(rounded)
}

private struct NoopProcessor: SpanProcessor {
    func onEnd(_ span: SpanData) {}
    func forceFlush(deadline: ContinuousClock.Instant) async {}
    func shutdown(deadline: ContinuousClock.Instant) async {}
}

private struct NoopExporter: SpanExporter {
    func export(_ batch: [SpanData]) async -> ExportResult { .success }
}

/// Eight attributes like a probe's root span; one value varies so each span owns its array.
@inline(__always)
private func attributes(_ i: Int) -> [Attribute] {
    [
        Attribute("probe.target", "payments-mcp"),
        Attribute("url.full", "https://mcp.example.com/mcp"),
        Attribute("server.address", "mcp.example.com"),
        Attribute("server.port", 443),
        Attribute("mcp.transport", "streamable_http"),
        Attribute("health.probe_type", "authenticated"),
        Attribute("health.status", "healthy"),
        Attribute("health.consecutive_failures", .int(i & 7)),
    ]
}

private func spanLoop(_ tracer: Tracer, count: Int) {
    for i in 0..<count {
        let span = tracer.startSpan("probe", root: true, attributes: attributes(i))
        span.end()
    }
}

func runTracingBenchmarks() async throws {
    print("== tracing (release; CPU time per operation) ==")
    let n = 1_000_000

    // Memory held per queued span: resident memory before and after queueing 100k spans that stay
    // queued; measured first, while the process's heap has no freed memory to reuse.
    let queued = 100_000
    let holding = BatchSpanProcessor(exporter: NoopExporter(), config: BatchConfig(
        scheduleDelay: .seconds(3600), maxQueueSize: queued, maxExportBatchSize: queued))
    let tracer = Tracer(scope: .bench, processor: holding)
    let before = residentBytes()
    spanLoop(tracer, count: queued - 1)  // one short of a full batch: nothing is exported
    let after = residentBytes()
    print("memory per queued span (8 attributes, RSS delta / \(queued - 1), fresh process): "
          + "\((after - before) / (queued - 1)) bytes (queue size \(holding.stats.queueSize))")
    await holding.shutdown(deadline: .now)

    // Warm-up: page in code and let allocator caches settle.
    spanLoop(Tracer(scope: .bench, processor: NoopProcessor()), count: 50_000)

    _ = measure("TraceID.random + SpanID.random (xoshiro256**, locked)", operations: n) {
        var sink: UInt64 = 0
        for _ in 0..<n { sink &+= TraceID.random().low &+ SpanID.random().value }
        if sink == 42 { print("") }
    }
    _ = measure("SystemRandomNumberGenerator, 3 draws (previous id source)", operations: n) {
        var rng = SystemRandomNumberGenerator()
        var sink: UInt64 = 0
        for _ in 0..<n { sink &+= rng.next() &+ rng.next() &+ rng.next() }
        if sink == 42 { print("") }
    }

    _ = measure("span start+end, 8 attributes, no-op processor", operations: n) {
        spanLoop(Tracer(scope: .bench, processor: NoopProcessor()), count: n)
    }

    // Through the batch processor with the default config: the worker drains into a no-op exporter.
    let batch = BatchSpanProcessor(exporter: NoopExporter())
    let wallStart = ContinuousClock.now
    let cost = measure("span start+end+enqueue, 8 attributes, BatchSpanProcessor (default config)", operations: n) {
        spanLoop(Tracer(scope: .bench, processor: batch), count: n)
    }
    await batch.forceFlush(deadline: .now + .seconds(60))
    let wall = ContinuousClock.now - wallStart
    let stats = batch.stats
    let seconds = wall.seconds
    print("  exported \(stats.spansExported), dropped (queue full) \(stats.spansDropped), "
          + "wall \(fmt(seconds * 1000)) ms → \(Int(Double(stats.spansExported) / seconds)) spans/s exported")
    await batch.shutdown(deadline: .now + .seconds(10))

    // Same with a queue that never fills, so every span takes the enqueue path.
    let big = BatchSpanProcessor(exporter: NoopExporter(), config: BatchConfig(maxQueueSize: 1 << 20, maxExportBatchSize: 512))
    let bigStart = ContinuousClock.now
    _ = measure("span start+end+enqueue, 8 attributes, BatchSpanProcessor (queue 1M, no drops)", operations: n) {
        spanLoop(Tracer(scope: .bench, processor: big), count: n)
    }
    await big.forceFlush(deadline: .now + .seconds(60))
    let bigWall = ContinuousClock.now - bigStart
    let bigSeconds = bigWall.seconds
    print("  exported \(big.stats.spansExported), dropped \(big.stats.spansDropped), "
          + "\(Int(Double(big.stats.spansExported) / bigSeconds)) spans/s end to end")
    await big.shutdown(deadline: .now + .seconds(10))

    // Metrics hot path on an existing series.
    let registry = MetricsRegistry(scope: .bench)
    let histogram = registry.histogram("probe.duration")
    let counter = registry.counter("probe.state.transitions")
    let gauge = registry.gauge("probe.success")
    let target: [Attribute] = [Attribute("health.probe_type", "authenticated"), Attribute("mcp.transport", "streamable_http"),
                               Attribute("probe.target", "payments-mcp")]
    histogram.record(0.1, attributes: target)
    _ = measure("Histogram.record, 3 attributes, 11 bounds, existing series", operations: n) {
        for i in 0..<n { histogram.record(Double(i & 1023) / 100, attributes: target) }
    }
    _ = measure("Counter.add, 3 attributes, existing series", operations: n) {
        for _ in 0..<n { counter.add(1, attributes: target) }
    }
    _ = measure("Gauge.set, 3 attributes, existing series", operations: n) {
        for i in 0..<n { gauge.set(i & 1, attributes: target) }
    }
    let unsorted = Array(target.reversed())
    _ = measure("Histogram.record, 3 attributes in unsorted order (canonicalised per call)", operations: n) {
        for i in 0..<n { histogram.record(Double(i & 1023) / 100, attributes: unsorted) }
    }
    if cost.thread > 1000 { print("note: span start+end+enqueue above the 1 µs target on this run") }
}
