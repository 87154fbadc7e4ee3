import Foundation
import OTLPExporter
import HTTPClient
import Synchronization
import ProbeLogic
import Tracing

/// What the agent knows about each target: its spec, health state, last result and history.
/// The one owner of per-target state; `/status` and the status page read it, probes update it. A lock, not an actor:
/// every probe touches it several times, and actor hops cost thread switches at 1,000 probes/s.
final class TargetBook: Sendable {
    struct Entry {
        var spec: TargetSpec
        var health = TargetHealth()
        var last: LastResult?
        var lastTransition: TransitionRecord?
        /// Whether the last probe could not obtain the OAuth token its auth asks for.
        var tokenUnavailable = false
        /// Why restart signals gave no mark on the last probe.
        var restartProblems: [String] = []
        /// The last `admin.history` probes, state changes and restarts.
        var history: ProbeHistory
        /// The message of the last probe that failed (the status page's "last error").
        var lastFailure: (message: String, atUnixNano: UInt64)?
    }

    /// What a recorded probe changed that is worth one log line.
    struct Changes {
        /// The OAuth token became unavailable, or available again.
        var token = false
        /// The restart signals that could not be read are not the same as on the last probe.
        var restartProblems = false
    }

    struct LastResult {
        var status: HealthStatus
        var message: String
        var errorType: String?
        var httpStatus: Int?
        var traceID: String
        var atUnixNano: UInt64
        var durationSeconds: Double
    }

    struct TransitionRecord {
        var from: String
        var to: String
        var atUnixNano: UInt64
        var traceID: String
    }

    private let state = Mutex<[String: Entry]>([:])
    private let historyLimit: Atomic<Int>

    /// `historyLimit`: probes kept per target (`admin.history`).
    init(historyLimit: Int = AdminSettings.defaultHistory) {
        self.historyLimit = Atomic(max(1, historyLimit))
    }

    var entries: [String: Entry] { state.withLock { $0 } }

    /// `admin.history` changed (a reload): every target keeps its newest probes up to the new limit.
    func setHistoryLimit(_ limit: Int) {
        let limit = max(1, limit)
        guard historyLimit.exchange(limit, ordering: .relaxed) != limit else { return }
        state.withLock { entries in
            for name in entries.keys { entries[name]!.history.resize(limit) }
        }
    }

    /// The target's state so far, for its next probe.
    func health(of name: String) -> TargetHealth { state.withLock { $0[name]?.health ?? TargetHealth() } }

    /// Replaces the target set; unchanged targets keep their state and history, changed ones start over.
    /// Returns the names that left.
    @discardableResult
    func replace(with specs: [TargetSpec]) -> [String] {
        let limit = historyLimit.load(ordering: .relaxed)
        return state.withLock { entries in
        var next: [String: Entry] = [:]
        for spec in specs {
            if let existing = entries[spec.target.name], existing.spec == spec {
                next[spec.target.name] = existing
            } else {
                next[spec.target.name] = Entry(spec: spec, history: ProbeHistory(limit: limit))
            }
        }
        let removed = entries.keys.filter { next[$0] == nil }
        entries = next
        return removed
        }
    }

    func isFailing(_ name: String) -> Bool { state.withLock { ($0[name]?.health.consecutiveFailures ?? 0) > 0 } }

    /// Stores a probe's result and the state it led to; nil when `spec` is no longer the target's
    /// (it left, or a reload changed it, while the probe ran). `sampled`: its trace was exported.
    func record(_ run: ProbeRun, of spec: TargetSpec, sampled: Bool = true) -> Changes? {
        let now = wallClockUnixNano()
        return state.withLock { entries in
            guard var entry = entries[spec.target.name], entry.spec == spec else { return nil }
            var changes = Changes()
            entry.health = run.step.health
            if let transition = run.step.transition {
                entry.lastTransition = TransitionRecord(from: transition.from.rawValue, to: transition.to.rawValue,
                                                        atUnixNano: now, traceID: run.traceID.hex)
            }
            entry.last = LastResult(
                status: run.report.outcome.health, message: run.report.outcome.message,
                errorType: run.report.outcome.errorType?.rawValue, httpStatus: run.report.httpStatus,
                traceID: run.traceID.hex, atUnixNano: run.startUnixNano, durationSeconds: run.duration.seconds)
            if let token = run.report.token, entry.tokenUnavailable != (token.unavailableReason != nil) {
                entry.tokenUnavailable.toggle()
                changes.token = true
            }
            if entry.restartProblems != run.restart.problems {
                entry.restartProblems = run.restart.problems
                changes.restartProblems = true
            }
            entry.history.append(Self.probeRecord(run, sampled: sampled), events: Self.events(run, sampled: sampled))
            if !run.report.outcome.health.isSuccess { entry.lastFailure = (run.report.outcome.message, run.startUnixNano) }
            entries[spec.target.name] = entry
            return changes
        }
    }

    static func probeRecord(_ run: ProbeRun, sampled: Bool) -> ProbeRecord {
        var marks: ProbeRecord.Marks = []
        if sampled { marks.insert(.sampled) }
        if run.step.restart != nil { marks.insert(.restart) }
        if run.step.transition != nil { marks.insert(.stateChange) }
        return ProbeRecord(atUnixNano: run.startUnixNano, traceID: run.traceID, durationSeconds: Float(run.duration.seconds),
                           httpStatus: UInt16(clamping: run.report.httpStatus ?? 0), health: run.report.outcome.health,
                           errorType: run.report.outcome.errorType, marks: marks)
    }

    static func events(_ run: ProbeRun, sampled: Bool) -> [TargetEvent] {
        var events: [TargetEvent] = []
        if let evidence = run.step.restart {
            events.append(TargetEvent(atUnixNano: run.startUnixNano, traceID: run.traceID, sampled: sampled,
                                      kind: .restart(evidence: evidence)))
        }
        if let transition = run.step.transition {
            events.append(TargetEvent(atUnixNano: run.startUnixNano, traceID: run.traceID, sampled: sampled,
                                      kind: .stateChange(from: transition.from, to: transition.to)))
        }
        return events
    }

    /// Ready once every target has been probed at least once.
    func readiness() -> (ready: Bool, reason: String) {
        let entries = self.entries
        let pending = entries.values.filter { $0.last == nil }.count
        return pending == 0 ? (true, "ready") : (false, "\(pending) of \(entries.count) targets not probed yet")
    }

    /// JSON of every target's state for `/status`, and how discovery is doing when it runs;
    /// `history` > 0 (`/status?history=N`): also each target's last `history` probes and the
    /// state changes and restarts among them.
    func statusJSON(discovery: DiscoveryHealth? = nil, spool: Spool? = nil, history: Int = 0) -> [UInt8] {
        let entries = self.entries
        let targets: [(object: [String: Any], history: ProbeHistory?)] = entries.keys.sorted().map { name in
            let e = entries[name]!
            var object: [String: Any] = [
                "name": name,
                "url": HTTPURL.redact(e.spec.target.url),
                "state": e.health.state.rawValue,
                "consecutive_failures": e.health.consecutiveFailures,
                "interval_seconds": e.spec.interval.seconds,
            ]
            if case .mcp(let options) = e.spec.target.kind { object["mcp_transport"] = options.transport.rawValue } else { object["kind"] = "http" }
            if !e.spec.target.labels.isEmpty { object["labels"] = e.spec.target.labels }
            if let last = e.last {
                var result: [String: Any] = [
                    "health_status": last.status.rawValue, "trace_id": last.traceID,
                    "time": UTCTime.iso8601(last.atUnixNano, milliseconds: true), "duration_seconds": last.durationSeconds,
                ]
                if !last.message.isEmpty { result["message"] = last.message }
                if let errorType = last.errorType { result["error_type"] = errorType }
                if let status = last.httpStatus { result["http_status_code"] = status }
                object["last_result"] = result
                object["last_trace_id"] = last.traceID
            }
            if let t = e.lastTransition {
                object["last_transition"] = ["from": t.from, "to": t.to, "time": UTCTime.iso8601(t.atUnixNano, milliseconds: true), "trace_id": t.traceID]
            }
            return (object, history > 0 ? e.history : nil)
        }
        // Written by hand, not by JSONSerialization: with a long history (`/status?history=N` on
        // a fleet) this document runs to megabytes, and a dictionary per probe cost seconds.
        var json = JSONWriter(capacity: min(512 * targets.count + 160 * history * targets.count, 1 << 24))
        json.beginObject()
        json.key("count")
        json.int(targets.count)
        if let discovery { json.key("discovery"); json.any(discovery.statusObject()) }
        if let spool { json.key("spool"); json.any(spool.statusObject()) }
        json.array("targets") { json in
            for (object, kept) in targets {
                json.beginObject()
                for (key, value) in object.sorted(by: { $0.key < $1.key }) { json.key(key); json.any(value) }
                if let kept {
                    let probes = kept.last(history)
                    let oldest = probes.first?.atUnixNano ?? .max
                    json.array("events") { json in
                        for event in kept.events where event.atUnixNano >= oldest { Self.write(event, to: &json) }
                    }
                    json.array("history") { json in for probe in probes { Self.write(probe, to: &json) } }
                }
                json.endObject()
            }
        }
        json.endObject()
        return json.bytes
    }

    static func write(_ probe: ProbeRecord, to json: inout JSONWriter) {
        json.beginObject()
        json.key("duration_seconds")
        json.double(Double(probe.durationSeconds))
        if let errorType = probe.errorType { json.key("error_type"); json.string(errorType.rawValue) }
        json.key("health_status")
        json.string(probe.health.rawValue)
        if probe.httpStatus != 0 { json.key("http_status_code"); json.int(Int(probe.httpStatus)) }
        if probe.marks.contains(.restart) { json.key("restart"); json.bool(true) }
        json.key("sampled")
        json.bool(probe.sampled)
        if probe.marks.contains(.stateChange) { json.key("state_change"); json.bool(true) }
        json.key("time")
        json.string(UTCTime.iso8601(probe.atUnixNano, milliseconds: true))
        json.key("trace_id")
        json.string(probe.traceID.hex)
        json.endObject()
    }

    static func write(_ event: TargetEvent, to json: inout JSONWriter) {
        json.beginObject()
        switch event.kind {
        case .stateChange(let from, let to):
            json.key("from"); json.string(from.rawValue)
            json.key("to"); json.string(to.rawValue)
            json.key("type"); json.string("state_change")
        case .restart(let evidence):
            json.key("evidence"); json.string(evidence)
            json.key("type"); json.string("restart")
        }
        json.key("sampled"); json.bool(event.sampled)
        json.key("time"); json.string(UTCTime.iso8601(event.atUnixNano, milliseconds: true))
        json.key("trace_id"); json.string(event.traceID.hex)
        json.endObject()
    }
}
