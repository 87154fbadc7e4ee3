import Foundation
import TestSupport
import Tracing

/// A span as `exporter.file` wrote it (OTLP/JSON), with its attributes as plain values.
struct FileSpan {
    let raw: [String: Any]
    let attributes: [String: Any]

    init(_ raw: [String: Any]) {
        self.raw = raw
        attributes = attributeMap(raw["attributes"])
    }

    var name: String { raw["name"] as? String ?? "" }
    var traceID: String { raw["traceId"] as? String ?? "" }
    var isRoot: Bool { (raw["parentSpanId"] as? String ?? "").isEmpty }
    var isProbeRoot: Bool { name == "probe" && isRoot }
    var target: String { attributes["probe.target"] as? String ?? "" }
    var startNanos: UInt64 { UInt64(raw["startTimeUnixNano"] as? String ?? "") ?? 0 }
    var statusCode: Int { (raw["status"] as? [String: Any])?["code"] as? Int ?? 0 }
    var statusMessage: String { (raw["status"] as? [String: Any])?["message"] as? String ?? "" }
    var isOK: Bool { statusCode == 1 }

    /// The attributes of each event called `name`.
    func events(_ name: String) -> [[String: Any]] {
        (raw["events"] as? [[String: Any]] ?? []).filter { $0["name"] as? String == name }.map { attributeMap($0["attributes"]) }
    }
}

/// The daemon's spans in `exporter.file`, read now.
struct ProbeSpanFile {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("spans-\(UUID().uuidString).jsonl").path
    }

    var spans: [FileSpan] { fileSpans(path).map(FileSpan.init) }

    /// The root `probe` spans of `target`, oldest first.
    func probes(of target: String) -> [FileSpan] {
        spans.filter { $0.isProbeRoot && $0.target == target }.sorted { $0.startNanos < $1.startNanos }
    }

    /// The successful probes of `target` that started after `nanos` (Unix time).
    func successfulProbes(of target: String, after nanos: UInt64 = 0) -> [FileSpan] {
        probes(of: target).filter { $0.isOK && $0.startNanos > nanos }
    }
}

/// Unix time in nanoseconds, as span start times are written.
func unixNanosNow() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1_000_000_000) }

/// Polls `condition` every 200 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: TimeInterval, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(200))
    }
    return await condition()
}

extension InstrumentationScope {
    /// Tests name their own scope; the agent's is `Telemetry.scope`.
    static let test = InstrumentationScope(name: "test")
}
