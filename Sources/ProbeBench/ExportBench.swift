#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPClient
import OTLPExporter
import Tracing

// OTLP export costs: CPU per exported span end to end, and peak RSS of a 200,000-span burst through
// the BatchSpanProcessor. Process CPU from getrusage (includes libcurl's event-loop thread); the
// loopback receiver is a separate process (Tests/Fixtures/otlp_receiver.py --discard) and not counted.

private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let rssQueueVariable = "PROBE_BENCH_EXPORT_RSS_QUEUE"

func runExportBenchmarks() async throws {
    let receiver = try DiscardReceiver()
    defer { receiver.stop() }
    if let queue = ProcessInfo.processInfo.environment[rssQueueVariable].flatMap(Int.init) {
        try await burstRSS(queueSize: queue, endpoint: receiver.tracesURL)  // child run: one scenario per process
        return
    }
    if ProcessInfo.processInfo.environment["PROBE_BENCH_EXPORT_PROFILE"] != nil {  // one scenario, long, for perf record
        try await endToEnd(endpoint: receiver.tracesURL, compression: .gzip, batches: 4000)
        return
    }
    print("== export (release, process CPU via getrusage) ==")
    try await endToEnd(endpoint: receiver.tracesURL, compression: .gzip)
    try await endToEnd(endpoint: receiver.tracesURL, compression: .none)
    try await endToEnd(endpoint: receiver.tracesURL, compression: .gzip, spool: true)
    for fsync in SpoolFsync.allCases { try await spooling(fsync: fsync) }
    stages()
    fflush(nil)  // before the children write
    for queue in [2048, 200_000] { try runChild(queueSize: queue) }
}

// MARK: CPU per span

private func processCPU() -> Duration {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let micros = (Int64(usage.ru_utime.tv_sec) + Int64(usage.ru_stime.tv_sec)) * 1_000_000
        + Int64(usage.ru_utime.tv_usec) + Int64(usage.ru_stime.tv_usec)
    return .microseconds(micros)
}

private func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // KiB on Linux
}

private func micros(_ d: Duration, per count: Int) -> String {
    let us = d.seconds * 1e6 / Double(count)
    return String(format: "%.2f", us)
}

/// SplitMix64: reproducible "random" ids, so spans compress like real ones (every probe its own
/// trace id, random span ids) and runs compare.
private func mixed(_ i: Int) -> UInt64 {
    var z = UInt64(truncatingIfNeeded: i) &+ 0x9e37_79b9_7f4a_7c15
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
}

/// A span like a probe's: 10 attributes, 2 events (one with attributes), a parent; two spans per
/// trace (a probe's root and CLIENT span), ids random.
private func makeSpan(_ i: Int) -> SpanData {
    let start = 1_700_000_000_000_000_000 + UInt64(i) * 1_000_000 + mixed(i) % 1_000
    let traceID = TraceID(high: mixed(-1 - i / 2), low: mixed(-1_000_000_000 - i / 2))
    return SpanData(
        context: SpanContext(traceID: traceID, spanID: SpanID(mixed(i))), parentSpanID: SpanID(mixed(i ^ 1)),
        name: "POST", kind: .client, startTimeUnixNano: start, endTimeUnixNano: start + 25_000_000,
        attributes: [
            Attribute("http.request.method", "POST"),
            Attribute("url.full", "https://mcp.example.com/mcp"),
            Attribute("server.address", "mcp.example.com"),
            Attribute("server.port", .int(Int64(443))),
            Attribute("http.response.status_code", .int(Int64(200))),
            Attribute("network.protocol.version", "1.1"),
            Attribute("probe.target", "payments-mcp"),
            Attribute("mcp.transport", "streamable_http"),
            Attribute("health.probe_type", "authenticated"),
            Attribute("health.status", "healthy"),
        ],
        events: [
            SpanEvent(name: "connect", timeUnixNano: start + 1_000_000, attributes: [Attribute("duration_ms", .double(1.25))]),
            SpanEvent(name: "first_byte", timeUnixNano: start + 20_000_000),
        ],
        status: .ok, scope: .bench)
}

/// A spool in a fresh temporary directory, removed by `done`.
private func temporarySpool(fsync: SpoolFsync = .batch) -> (Spool, done: () -> Void) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-spool-\(UUID().uuidString)").path
    let spool = Spool(config: SpoolConfig(directory: dir, fsync: fsync))
    return (spool, { spool.close(); try? FileManager.default.removeItem(atPath: dir) })
}

private func endToEnd(endpoint: String, compression: OTLPCompression, batches: Int = 400, spool withSpool: Bool = false)
    async throws {
    var config = SignalConfig(signal: .traces, endpoint: endpoint)
    config.compression = compression
    let spool = withSpool ? temporarySpool() : nil
    defer { spool?.done() }
    let exporter = OTLPHTTPSpanExporter(config: config, spool: spool?.0)
    let batchSize = 512
    for i in 0..<5 { _ = await exporter.export((0..<batchSize).map { makeSpan(i * batchSize + $0) }) }

    let wall = ContinuousClock.now
    let cpu0 = processCPU()
    for b in 0..<batches {
        let batch = (0..<batchSize).map { makeSpan(b * batchSize + $0) }
        guard await exporter.export(batch) == .success else { throw BenchError("export failed: \(exporter.stats)") }
    }
    let cpu = processCPU() - cpu0
    let spans = batches * batchSize
    print("end to end (create + protobuf + \(compression == .gzip ? "gzip" : "no compression") + POST, batches of \(batchSize), \(spans) spans"
          + "\(withSpool ? ", with an idle spool" : "")): \(micros(cpu, per: spans)) µs CPU/span, wall \(ContinuousClock.now - wall)")
}

/// The collector down: every batch after the first goes straight to the spool (create + protobuf +
/// gzip + append, and an fsync per batch with `fsync: batch`).
private func spooling(fsync: SpoolFsync, batches: Int = 400) async throws {
    var config = SignalConfig(signal: .traces, endpoint: "http://127.0.0.1:1/v1/traces")
    config.compression = .gzip
    let (spool, done) = temporarySpool(fsync: fsync)
    defer { done() }
    let exporter = OTLPHTTPSpanExporter(config: config, spool: spool)
    let batchSize = 512
    for i in 0..<5 { _ = await exporter.export((0..<batchSize).map { makeSpan(i * batchSize + $0) }) }
    let bytes0 = spool.stats.bytes
    let wall = ContinuousClock.now
    let cpu0 = processCPU()
    for b in 0..<batches {
        let batch = (0..<batchSize).map { makeSpan(b * batchSize + $0) }
        guard await exporter.export(batch) == .success else { throw BenchError("spooling failed: \(exporter.stats)") }
    }
    let cpu = processCPU() - cpu0
    let spans = batches * batchSize
    print("collector down, spooling (create + protobuf + gzip + append, fsync: \(fsync.rawValue), \(spans) spans): "
          + "\(micros(cpu, per: spans)) µs CPU/span, \((spool.stats.bytes - bytes0) / spans) B/span on disk, wall \(ContinuousClock.now - wall)")
}

/// Where the time goes, one stage at a time, over the same 512-span batch.
private func stages() {
    let rounds = 200, batchSize = 512
    let resource = OTLPResource.make()
    func measure(_ label: String, _ body: () throws -> Int) rethrows {
        var bytes = 0
        let cpu0 = processCPU()
        for _ in 0..<rounds { bytes = try body() }
        let size = bytes > 0 ? " (\(bytes / batchSize) B/span)" : ""
        print("  \(label): \(micros(processCPU() - cpu0, per: rounds * batchSize)) µs CPU/span\(size)")
    }
    let batch = (0..<batchSize).map { makeSpan($0) }
    let proto = TraceRequestProtobuf(spans: batch, resource: resource).serializedBytes()
    let json = TraceRequestJSON.encode(spans: batch, resource: resource)
    var kept: [SpanData] = []
    measure("create SpanData (10 attributes, 2 events)") {
        kept = (0..<batchSize).map { makeSpan($0) }
        return 0
    }
    precondition(kept.count == batchSize)
    let scratch = ProtobufScratch()  // reused, as in the exporter
    measure("encode protobuf") { scratch.withEncoded(TraceRequestProtobuf(spans: batch, resource: resource)) { $0.count } }
    measure("encode OTLP/JSON") { TraceRequestJSON.encode(spans: batch, resource: resource).count }
    let gzip = GzipCompressor()  // reused, as in the exporter
    try? measure("gzip protobuf (ISA-L level 1)") { try gzip.compress(proto).count }
    try? measure("gzip OTLP/JSON (ISA-L level 1)") { try gzip.compress(json).count }
}

// MARK: RSS of a burst through the BatchSpanProcessor

/// ru_maxrss is a per-process high-water mark, so each queue size runs in a fresh process.
private func runChild(queueSize: Int) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["export"]
    var env = ProcessInfo.processInfo.environment
    env[rssQueueVariable] = String(queueSize)
    process.environment = env
    try process.run()
    process.waitUntilExit()
}

private func burstRSS(queueSize: Int, endpoint: String) async throws {
    var config = SignalConfig(signal: .traces, endpoint: endpoint)
    config.compression = .gzip
    let exporter = OTLPHTTPSpanExporter(config: config)
    let processor = BatchSpanProcessor(exporter: exporter, config: BatchConfig(maxQueueSize: queueSize, maxExportBatchSize: 512))
    let tracer = Tracer(scope: .bench, processor: processor)
    let baseline = peakRSSMiB()
    let spans = 200_000
    let wall = ContinuousClock.now
    let cpu0 = processCPU()
    for i in 0..<spans {
        let span = tracer.startSpan("POST", kind: .client, root: true, attributes: [
            Attribute("http.request.method", "POST"),
            Attribute("url.full", "https://mcp.example.com/mcp"),
            Attribute("server.address", "mcp.example.com"),
            Attribute("server.port", .int(Int64(443))),
            Attribute("http.response.status_code", .int(Int64(200))),
            Attribute("network.protocol.version", "1.1"),
            Attribute("probe.target", .string("target-\(i % 1000)")),
            Attribute("mcp.transport", "streamable_http"),
            Attribute("health.probe_type", "authenticated"),
            Attribute("health.status", "healthy"),
        ])
        span.addEvent("connect", attributes: [Attribute("duration_ms", .double(1.25))])
        span.addEvent("first_byte")
        span.end()
    }
    let burst = ContinuousClock.now - wall
    await processor.shutdown(deadline: .now + .seconds(120))
    let cpu = processCPU() - cpu0
    let s = processor.stats
    print("burst of \(spans) spans, BatchSpanProcessor queue \(queueSize), batch 512, gzip protobuf: "
          + String(format: "peak RSS %.1f MiB (%.1f MiB before the burst)", peakRSSMiB(), baseline)
          + ", exported \(exporter.stats.exported), dropped at enqueue \(s.spansDropped), failed \(s.spansFailed), "
          + "burst \(burst), total \(ContinuousClock.now - wall), \(micros(cpu, per: spans)) µs CPU/span incl. span creation")
}

// MARK: receiver

private struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `otlp_receiver.py --discard` on a free loopback port: answers 200 to every POST, decodes nothing.
private final class DiscardReceiver {
    let process = Process()
    let port: Int
    var tracesURL: String { "http://127.0.0.1:\(port)/v1/traces" }

    init() throws {
        port = try Self.freePort()
        let python = ProcessInfo.processInfo.environment["PROBE_AGENT_TEST_PYTHON"] ?? repoRoot.appendingPathComponent(".venv/bin/python").path
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repoRoot.appendingPathComponent("Tests/Fixtures/otlp_receiver.py").path, String(port), "--discard"]
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !Self.accepts(port) {
            guard process.isRunning, ContinuousClock.now < deadline else { throw BenchError("receiver did not start (\(python))") }
            usleep(50_000)
        }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private static func address(_ port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = address(0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw BenchError("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = address(port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
