import Foundation
import HTTPClient
import Synchronization
import Tracing

/// How target discovery is doing, for `/status`, metrics (`probe_agent_discovery_success`,
/// `probe_agent_discovery_targets`) and the log: each failure is a warning line, and so is the
/// recovery; while polls fail, the targets found before keep being probed.
final class DiscoveryHealth: Sendable {
    struct State {
        var lastSuccessUnixNano: UInt64?
        var lastError: String?
        var lastErrorUnixNano: UInt64?
        var consecutiveFailures = 0
        var targets = 0
        /// A reload removed this source: polls still under way record nothing.
        var retired = false
    }

    let source: String
    private let state = Mutex(State())
    private let success: Gauge
    private let targets: Gauge

    /// `source`: the gateway's URL (shown redacted).
    init(source: String, registry: MetricsRegistry) {
        self.source = HTTPURL.redact(source)
        success = registry.gauge("probe_agent.discovery.success", unit: "1",
                                 description: "1 when the last discovery poll succeeded, 0 when it failed")
        targets = registry.gauge("probe_agent.discovery.targets", unit: "1",
                                 description: "Targets the last successful discovery poll found")
    }

    /// Records a good poll; true when it ends a run of failures.
    @discardableResult
    func succeeded(found count: Int) -> Bool {
        state.withLock { s in
            guard !s.retired else { return false }
            success.set(1)
            targets.set(count)
            defer {
                s.lastSuccessUnixNano = wallClockUnixNano()
                s.consecutiveFailures = 0
                s.targets = count
            }
            return s.consecutiveFailures > 0
        }
    }

    func failed(_ error: any Error) {
        state.withLock { s in
            guard !s.retired else { return }
            success.set(0)
            s.lastError = "\(error)"
            s.lastErrorUnixNano = wallClockUnixNano()
            s.consecutiveFailures += 1
        }
    }

    /// The source is no longer polled (a reload removed or replaced it): its series leave
    /// `/metrics` until a source reports again.
    func retire() {
        state.withLock { s in
            s.retired = true
            success.remove(attributes: [])
            targets.remove(attributes: [])
        }
    }

    /// The `discovery` object of `/status`.
    func statusObject() -> [String: Any] {
        let s = state.withLock { $0 }
        var object: [String: Any] = ["source": source, "consecutive_failures": s.consecutiveFailures, "targets": s.targets]
        if let time = s.lastSuccessUnixNano { object["last_success"] = UTCTime.iso8601(time, milliseconds: true) }
        if let error = s.lastError { object["last_error"] = error }
        if let time = s.lastErrorUnixNano { object["last_error_time"] = UTCTime.iso8601(time, milliseconds: true) }
        return object
    }
}
