import Foundation
import Synchronization
import Tracing

/// Writes each export as one line of OTLP/JSON (an `ExportTraceServiceRequest` or
/// `ExportMetricsServiceRequest`) to a file or stdout: the no-collector and console exporter.
/// A failed write (disk full, a closed pipe) is reported like a failed OTLP export.
public final class OTLPFileExporter: SpanExporter, MetricExporter {
    private let output: Mutex<FileHandle?>
    private let resource: Resource
    private let closeOnShutdown: Bool
    private let name: String
    private let diagnostics: DiagnosticsSink
    private let outage: OutageLog

    /// - Parameter name: what the log lines call it ("file /var/log/spans.jsonl", "console").
    package init(fileHandle: FileHandle, resource: Resource = OTLPResource.make(), closeOnShutdown: Bool = false,
                name: String = "console", diagnostics: @escaping DiagnosticsSink = { _ in }) {
        output = Mutex(fileHandle)
        self.resource = resource
        self.closeOnShutdown = closeOnShutdown
        self.name = name
        self.diagnostics = diagnostics
        outage = OutageLog(subject: "OTLP/JSON export to \(name)", unit: "items", sink: diagnostics)
    }

    /// Appends to `path`, creating the file if needed. Every write goes to the end (O_APPEND), so
    /// two exporters on one file (a reload's old one draining, the new one) never overwrite each other.
    public convenience init(path: String, resource: Resource = OTLPResource.make(),
                            diagnostics: @escaping DiagnosticsSink = { _ in }) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileOpenError(path: path, reason: String(cString: strerror(errno))) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        self.init(fileHandle: handle, resource: resource, closeOnShutdown: true, name: "file \(path)", diagnostics: diagnostics)
    }

    public static func standardOutput(resource: Resource = OTLPResource.make(),
                                      diagnostics: @escaping DiagnosticsSink = { _ in }) -> OTLPFileExporter {
        OTLPFileExporter(fileHandle: .standardOutput, resource: resource, diagnostics: diagnostics)
    }

    public func export(_ batch: [SpanData]) async -> ExportResult {
        guard !batch.isEmpty else { return .success }
        return write(TraceRequestJSON.encode(spans: batch, resource: resource), count: batch.count, unit: "spans")
    }

    public func export(_ metrics: [MetricData]) async -> ExportResult {
        guard !metrics.isEmpty else { return .success }
        return write(MetricsRequestJSON.encode(metrics: metrics, resource: resource),
                     count: metrics.reduce(0) { $0 + $1.points.count }, unit: "data points")
    }

    private func write(_ json: [UInt8], count: Int, unit: String) -> ExportResult {
        let start = ContinuousClock.now
        let problem = output.withLock { handle -> String? in
            guard let handle else { return "already shut down" }
            do {
                try handle.write(contentsOf: json + [0x0a])
                return nil
            } catch {
                return "\(error)"
            }
        }
        diagnostics(Diagnostic(.debug, "OTLP/JSON export to \(name): \(count) \(unit), \(json.count + 1) bytes, "
            + "\(problem.map { "failed (\($0))" } ?? "written"), \(OutageLog.text(ContinuousClock.now - start))"))
        if let problem {
            outage.failure("write failed (\(problem)); \(count) \(unit) dropped", failedAttempts: 1, failedBatches: 1, dropped: count)
            return .failure
        }
        outage.success()
        return .success
    }

    public func forceFlush(deadline: ContinuousClock.Instant) async {
        output.withLock { try? $0?.synchronize() }
    }

    public func shutdown(deadline: ContinuousClock.Instant) async {
        output.withLock { handle in
            try? handle?.synchronize()
            if closeOnShutdown { try? handle?.close() }
            handle = nil
        }
    }
}

struct FileOpenError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "cannot open \(path) to append spans: \(reason)" }
}
