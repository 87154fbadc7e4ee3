/// Hands every finished span to the exporter at once, in order. For one-shot use (`check`).
public final class SimpleSpanProcessor: SpanProcessor {
    private let exporter: any SpanExporter
    private let pending: PendingExports

    public init(exporter: any SpanExporter) {
        self.exporter = exporter
        self.pending = PendingExports()
    }

    public func onEnd(_ span: SpanData) {
        let exporter = self.exporter
        pending.add(Task { _ = await exporter.export([span]) })
    }

    public func forceFlush(deadline: ContinuousClock.Instant) async {
        await pending.waitAll()
        await exporter.forceFlush(deadline: deadline)
    }

    public func shutdown(deadline: ContinuousClock.Instant) async {
        await pending.waitAll()
        await exporter.shutdown(deadline: deadline)
    }
}

import Synchronization

/// Tracks fire-and-forget export tasks so flush can wait for them.
final class PendingExports: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func add(_ task: Task<Void, Never>) {
        tasks.withLock { $0.append(task) }
    }

    func waitAll() async {
        let current = tasks.withLock { t -> [Task<Void, Never>] in
            defer { t.removeAll() }
            return t
        }
        for task in current { await task.value }
    }
}
