import Foundation
import OTLPExporter
import Synchronization
import Tracing

/// The spool as self-metrics (OTLP and `/metrics`): what it holds, how old its oldest record is,
/// whether it can write, and what went in, came back out, or was lost. Brought up to date before
/// every collection.
final class SpoolMetrics: Sendable {
    private let spool: Spool
    private let bytes: Gauge
    private let records: Gauge
    private let items: Gauge
    private let oldestAge: Gauge
    private let writable: Gauge
    private let dropped: Counter
    private let damaged: Counter
    private let writeErrors: Counter
    private let totals = CounterTotals()

    /// Registers the instruments and their refresh in `registry`.
    @discardableResult
    /// What went in and came back out is counted by the exporters (`SelfMetrics`): a reload
    /// replaces them, the spool stays.
    init(registry: MetricsRegistry, spool: Spool) {
        self.spool = spool
        bytes = registry.gauge("otlp.exporter.spool.bytes", unit: "By", description: "Bytes of the spool's segment files")
        records = registry.gauge("otlp.exporter.spool.records", unit: "1", description: "Export requests waiting in the spool")
        items = registry.gauge("otlp.exporter.spool.items", unit: "1", description: "Spans or data points waiting in the spool")
        oldestAge = registry.gauge("otlp.exporter.spool.oldest_age", unit: "s",
                                   description: "Age of the oldest record waiting in the spool (0 when empty)")
        writable = registry.gauge("otlp.exporter.spool.writable", unit: "1",
                                  description: "1 while the spool takes requests, 0 while the disk refuses them")
        dropped = registry.counter("otlp.exporter.dropped", unit: "1", description: "Items dropped, by reason")
        damaged = registry.counter("otlp.exporter.spool.damaged", unit: "1",
                                   description: "Torn or corrupt stretches of the spool skipped")
        writeErrors = registry.counter("otlp.exporter.spool.write_errors", unit: "1", description: "Spool appends the disk refused")
        registry.beforeCollect { [self] in update() }
    }

    func update() {
        let stats = spool.stats
        bytes.set(stats.bytes)
        writable.set(stats.writable ? 1 : 0)
        oldestAge.set(stats.oldestRecord.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
        totals.advance(damaged, "damaged", to: stats.damaged)
        totals.advance(writeErrors, "write_errors", to: stats.writeErrors)
        for signal in [OTLPSignal.traces, .metrics] {
            let s = [Attribute("signal", .string(signal.rawValue))]
            records.set(stats.records[signal] ?? 0, attributes: s)
            items.set(stats.items[signal] ?? 0, attributes: s)
            totals.advance(dropped, "\(signal).spool_full", to: stats.droppedFull[signal] ?? 0,
                           attributes: s + [Attribute("reason", .string("spool_full"))])
        }
    }
}

extension Spool {
    /// The backlog for `/status`: what waits, how old the oldest is, whether the disk takes more.
    func statusObject() -> [String: Any] {
        let stats = self.stats
        var object: [String: Any] = [
            "dir": config.directory, "max_bytes": config.maxBytes, "bytes": stats.bytes, "writable": stats.writable,
            "records": Dictionary(uniqueKeysWithValues: [OTLPSignal.traces, .metrics].map { ($0.rawValue, stats.records[$0] ?? 0) }),
            "items": Dictionary(uniqueKeysWithValues: [OTLPSignal.traces, .metrics].map { ($0.rawValue, stats.items[$0] ?? 0) }),
            "dropped_spool_full": stats.droppedFull.values.reduce(0, +), "damaged": stats.damaged,
        ]
        if let oldest = stats.oldestRecord {
            object["oldest_record"] = UTCTime.iso8601(UInt64(max(0, oldest.timeIntervalSince1970) * 1e9), milliseconds: true)
            object["oldest_age_seconds"] = max(0, Date().timeIntervalSince(oldest))
        }
        return object
    }
}

/// Counters that mirror running totals kept elsewhere: each advances by the change since the last look.
final class CounterTotals: Sendable {
    private let seen = Mutex<[String: Int]>([:])

    func advance(_ counter: Counter, _ key: String, to total: Int, attributes: [Attribute] = []) {
        let delta = seen.withLock { seen -> Int in
            defer { seen[key] = total }
            return total - (seen[key] ?? 0)
        }
        if delta >= 0 { counter.add(delta, attributes: attributes) }
    }

    /// Totals whose source is gone (their last values were taken) stop being remembered.
    func forget(prefix: String) {
        seen.withLock { seen in seen = seen.filter { !$0.key.hasPrefix(prefix) } }
    }
}
