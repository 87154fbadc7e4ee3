import ProbeLogic
import Tracing

/// One probe as the status page and `/status?history=N` show it. Kept small (40 bytes: a fleet
/// keeps `admin.history` of these per target): the message is kept for the last probe only
/// (`TargetBook.LastResult`), the evidence of a restart in its `TargetEvent`.
struct ProbeRecord: Equatable {
    var atUnixNano: UInt64
    var traceID: TraceID
    var durationSeconds: Float
    /// 0: no HTTP answer.
    var httpStatus: UInt16
    var health: HealthStatus
    var errorType: ProbeErrorType?
    var marks: Marks

    struct Marks: OptionSet, Equatable {
        let rawValue: UInt8
        /// The probe's trace was exported (not sampled out).
        static let sampled = Marks(rawValue: 1)
        static let restart = Marks(rawValue: 2)
        static let stateChange = Marks(rawValue: 4)
    }

    var sampled: Bool { marks.contains(.sampled) }
}

/// A state change or a restart, with the trace of the probe that saw it.
struct TargetEvent: Equatable {
    enum Kind: Equatable {
        case stateChange(from: TargetHealth.State, to: TargetHealth.State)
        /// What changed (`TargetHealth.Step.restart`), as on the `target.restart` span event.
        case restart(evidence: String)
    }

    var atUnixNano: UInt64
    var traceID: TraceID
    var sampled: Bool
    var kind: Kind

    var isRestart: Bool {
        if case .restart = kind { return true }
        return false
    }
}

/// The last `limit` probes of one target (a ring), and the events seen while they ran.
struct ProbeHistory {
    private(set) var limit: Int
    private var records: [ProbeRecord] = []
    /// Where the next record goes once the ring is full.
    private var next = 0
    /// Oldest first; never older than the oldest kept probe, and at most `limit`.
    private(set) var events: [TargetEvent] = []

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var count: Int { records.count }

    /// Oldest first.
    var probes: [ProbeRecord] { Array(records[next...] + records[..<next]) }

    /// The last `n` probes, oldest first.
    func last(_ n: Int) -> ArraySlice<ProbeRecord> { probes.suffix(max(0, n)) }

    mutating func append(_ record: ProbeRecord, events new: [TargetEvent]) {
        if records.count < limit {
            if records.isEmpty { records.reserveCapacity(limit) }  // no growth slack: the ring is filled to its limit
            records.append(record)
        } else {
            records[next] = record
            next = (next + 1) % limit
        }
        events += new
        let oldest = records[next].atUnixNano  // 0 until the ring is full
        events.removeFirst(events.prefix { $0.atUnixNano < oldest }.count)
        if events.count > limit { events.removeFirst(events.count - limit) }
    }

    /// Keeps the newest `limit` probes (a reload changed `admin.history`).
    mutating func resize(_ limit: Int) {
        let limit = max(1, limit)
        guard limit != self.limit else { return }
        let kept = probes.suffix(limit)
        let keptEvents = events
        self = ProbeHistory(limit: limit)
        records = Array(kept)
        next = 0
        let oldest = records.first?.atUnixNano ?? 0
        events = Array(keptEvents.filter { $0.atUnixNano >= oldest }.suffix(limit))
    }
}
