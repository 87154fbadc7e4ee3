import Foundation
import HTTPClient
import Synchronization
import ProbeLogic
import Tracing

/// What the agent knows about each target: its spec, health state and last result.
/// The one owner of per-target state; `/status` reads it, probes update it. A lock, not an actor:
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

    var entries: [String: Entry] { state.withLock { $0 } }

    /// The target's state so far, for its next probe.
    func health(of name: String) -> TargetHealth { state.withLock { $0[name]?.health ?? TargetHealth() } }

    /// Replaces the target set; unchanged targets keep their state, changed ones start over.
    /// Returns the names that left.
    @discardableResult
    func replace(with specs: [TargetSpec]) -> [String] {
        state.withLock { entries in
        var next: [String: Entry] = [:]
        for spec in specs {
            if let existing = entries[spec.target.name], existing.spec == spec {
                next[spec.target.name] = existing
            } else {
                next[spec.target.name] = Entry(spec: spec)
            }
        }
        let removed = entries.keys.filter { next[$0] == nil }
        entries = next
        return removed
        }
    }

    func isFailing(_ name: String) -> Bool { state.withLock { ($0[name]?.health.consecutiveFailures ?? 0) > 0 } }

    /// Stores a probe's result and the state it led to; nil when `spec` is no longer the target's
    /// (it left, or a reload changed it, while the probe ran).
    func record(_ run: ProbeRun, of spec: TargetSpec) -> Changes? {
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
            entries[spec.target.name] = entry
            return changes
        }
    }

    /// Ready once every target has been probed at least once.
    func readiness() -> (ready: Bool, reason: String) {
        let entries = self.entries
        let pending = entries.values.filter { $0.last == nil }.count
        return pending == 0 ? (true, "ready") : (false, "\(pending) of \(entries.count) targets not probed yet")
    }

    /// JSON of every target's state for `/status`, and how discovery is doing when it runs.
    func statusJSON(discovery: DiscoveryHealth? = nil) -> [UInt8] {
        let entries = self.entries
        // One formatter per document, not per timestamp (a fleet has thousands).
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let targets: [[String: Any]] = entries.keys.sorted().map { name in
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
                    "time": Self.iso8601(last.atUnixNano, formatter), "duration_seconds": last.durationSeconds,
                ]
                if !last.message.isEmpty { result["message"] = last.message }
                if let errorType = last.errorType { result["error_type"] = errorType }
                if let status = last.httpStatus { result["http_status_code"] = status }
                object["last_result"] = result
                object["last_trace_id"] = last.traceID
            }
            if let t = e.lastTransition {
                object["last_transition"] = ["from": t.from, "to": t.to, "time": Self.iso8601(t.atUnixNano, formatter), "trace_id": t.traceID]
            }
            return object
        }
        var document: [String: Any] = ["targets": targets, "count": targets.count]
        if let discovery { document["discovery"] = discovery.statusObject(formatter) }
        return Array((try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    static func iso8601(_ unixNano: UInt64, _ formatter: ISO8601DateFormatter) -> String {
        formatter.string(from: Date(timeIntervalSince1970: Double(unixNano) / 1e9))
    }
}
