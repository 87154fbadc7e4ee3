import Foundation
import HTTPClient
import Synchronization

/// How much a diagnostic matters; the app maps it to its logger's level and filters on it.
public enum DiagnosticLevel: String, Sendable, Comparable {
    /// One line per export attempt.
    case debug
    /// Start-up and shutdown summaries.
    case info
    /// News an operator wants without asking: an outage ended.
    case notice
    /// Data is being lost or the configuration is off.
    case warning

    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    private var rank: Int { [.debug: 0, .info: 1, .notice: 2, .warning: 3][self]! }
}

/// One line from the exporter, already scrubbed of secrets. The emitter decides its level.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public var level: DiagnosticLevel
    public var message: String

    public init(_ level: DiagnosticLevel, _ message: String) {
        self.level = level
        self.message = message
    }

    public var description: String { "\(level.rawValue): \(message)" }
}

/// Where exporter diagnostics go; the app wires it to its logger.
public typealias DiagnosticsSink = @Sendable (Diagnostic) -> Void

/// Removes known secrets (header values, URL userinfo) from text before it is logged or stored.
public struct SecretScrubber: Sendable {
    private let secrets: [String]

    public init(secrets: [String]) {
        // Longest first so a secret containing another is replaced whole.
        self.secrets = Array(Set(secrets.filter { $0.count >= 3 })).sorted { $0.count > $1.count }
    }

    init(config: SignalConfig) {
        var secrets = config.headers.map(\.value)
        // Also the token alone, for "Bearer <token>" style values.
        secrets += config.headers.flatMap { $0.value.split(separator: " ").dropFirst().map(String.init) }
        if let userinfo = HTTPURL(config.endpoint)?.userinfo.map(String.init) {
            secrets.append(userinfo)
            secrets += userinfo.split(separator: ":").map(String.init)
        }
        self.init(secrets: secrets)
    }

    public func scrub(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "REDACTED")
        }
        return result
    }
}

/// Reports one kind of trouble (an export failing, a queue dropping) as an operator wants to
/// read it: the first failure at once with its reason, then at most one summary per `interval`
/// while it lasts, and the recovery with the totals. Never a line per batch: a failure within
/// `interval` of the last line only counts, and an outage that began and ended in that quiet
/// time is reported by its recovery line once the interval has passed.
public final class OutageLog: Sendable {
    /// What went wrong during one outage.
    public struct Tally: Sendable, Equatable {
        public var failedAttempts = 0
        public var retries = 0
        /// Batches (export requests) given up on.
        public var failedBatches = 0
        /// Items kept in the spool for later, not lost.
        public var spooled = 0
        public var dropped = 0
    }

    private struct State {
        var since: ContinuousClock.Instant?
        var recoveredAt: ContinuousClock.Instant?
        var tally = Tally()
        var lastReason = ""
        var reported = false
        var lastLine: ContinuousClock.Instant?
    }

    private let subject: String
    private let unit: String
    private let sink: DiagnosticsSink
    private let scrubber: SecretScrubber
    private let interval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex(State())

    /// - Parameters:
    ///   - subject: what fails, as the lines name it ("OTLP traces export to http://collector:4318/v1/traces").
    ///   - unit: what is dropped ("spans").
    public init(subject: String, unit: String, sink: @escaping DiagnosticsSink, scrubber: SecretScrubber = SecretScrubber(secrets: []),
                interval: Duration = .seconds(60), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.subject = subject
        self.unit = unit
        self.sink = sink
        self.scrubber = scrubber
        self.interval = interval
        self.now = now
    }

    /// A failed attempt (`failedAttempts`), a batch and its items given up on (`failedBatches`,
    /// `dropped`) or kept in the spool (`spooled`), or both.
    public func failure(_ reason: String, failedAttempts: Int = 0, failedBatches: Int = 0, spooled: Int = 0, dropped: Int = 0) {
        let t = now()
        let line = state.withLock { s -> String? in
            if s.since == nil { s.since = t }
            s.recoveredAt = nil
            s.tally.failedAttempts += failedAttempts
            s.tally.failedBatches += failedBatches
            s.tally.spooled += spooled
            s.tally.dropped += dropped
            s.lastReason = reason
            guard s.lastLine.map({ t - $0 >= interval }) ?? true else { return nil }
            s.lastLine = t
            defer { s.reported = true }
            guard s.reported else { return "\(subject) failing: \(reason)" }
            return "\(subject) still failing after \(Self.text(t - s.since!)): \(Self.text(s.tally, unit)); last error: \(reason)"
        }
        if let line { sink(Diagnostic(.warning, scrubber.scrub(line))) }
    }

    public func retry() { state.withLock { $0.tally.retries += 1 } }

    /// Things work again: ends the outage, if there is one.
    public func success() {
        let t = now()
        let line = state.withLock { s -> String? in
            guard let since = s.since else { return nil }
            let recoveredAt = s.recoveredAt ?? t
            s.recoveredAt = recoveredAt
            if !s.reported, let last = s.lastLine, t - last < interval { return nil }
            defer { s = State(lastLine: t) }
            let last = s.reported ? "" : "; last error: \(s.lastReason)"
            return "\(subject) recovered after \(Self.text(recoveredAt - since)): \(Self.text(s.tally, unit))\(last)"
        }
        if let line { sink(Diagnostic(.notice, scrubber.scrub(line))) }
    }

    static func text(_ t: Tally, _ unit: String) -> String {
        var parts: [String] = []
        if t.failedAttempts > 0 { parts.append("\(t.failedAttempts) failed attempt\(t.failedAttempts == 1 ? "" : "s")") }
        if t.retries > 0 { parts.append("\(t.retries) retr\(t.retries == 1 ? "y" : "ies")") }
        if t.failedBatches > 0 { parts.append("\(t.failedBatches) failed batch\(t.failedBatches == 1 ? "" : "es")") }
        if t.spooled > 0 { parts.append("\(t.spooled) \(unit) spooled") }
        parts.append("\(t.dropped) \(unit) dropped")
        return parts.joined(separator: ", ")
    }

    /// "850 ms", "12.3 s", "2m05s", "1h02m".
    static func text(_ d: Duration) -> String {
        let ms = Int(d.nanoseconds / 1_000_000)
        if ms < 1000 { return "\(ms) ms" }
        if ms < 60_000 { return String(format: "%.1f s", Double(ms) / 1000) }
        let s = ms / 1000
        func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if s < 3600 { return "\(s / 60)m\(twoDigits(s % 60))s" }
        return "\(s / 3600)h\(twoDigits(s / 60 % 60))m"
    }
}
