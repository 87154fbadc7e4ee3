import Foundation
import Synchronization
import Tracing

/// Writes each export as one line of OTLP/JSON (an `ExportTraceServiceRequest` or
/// `ExportMetricsServiceRequest`) to a file or stdout: the no-collector and console exporter.
public final class OTLPFileExporter: SpanExporter, MetricExporter {
    private let output: Mutex<FileHandle?>
    private let resource: Resource
    private let closeOnShutdown: Bool

    public init(fileHandle: FileHandle, resource: Resource = OTLPResource.make(), closeOnShutdown: Bool = false) {
        output = Mutex(fileHandle)
        self.resource = resource
        self.closeOnShutdown = closeOnShutdown
    }

    /// Appends to `path`, creating the file if needed.
    public convenience init(path: String, resource: Resource = OTLPResource.make()) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        self.init(fileHandle: handle, resource: resource, closeOnShutdown: true)
    }

    public static func standardOutput(resource: Resource = OTLPResource.make()) -> OTLPFileExporter {
        OTLPFileExporter(fileHandle: .standardOutput, resource: resource)
    }

    public func export(_ batch: [SpanData]) async -> ExportResult {
        guard !batch.isEmpty else { return .success }
        return write(TraceRequestJSON.encode(spans: batch, resource: resource))
    }

    public func export(_ metrics: [MetricData]) async -> ExportResult {
        guard !metrics.isEmpty else { return .success }
        return write(MetricsRequestJSON.encode(metrics: metrics, resource: resource))
    }

    private func write(_ json: [UInt8]) -> ExportResult {
        output.withLock { handle in
            guard let handle else { return .failure }
            do {
                try handle.write(contentsOf: json + [0x0a])
                return .success
            } catch {
                return .failure
            }
        }
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
