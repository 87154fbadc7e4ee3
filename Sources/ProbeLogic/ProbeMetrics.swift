import Synchronization
import Tracing

/// The probe metric set of the design, recorded once per probe run.
/// OTLP names here; the admin endpoint exposes them under blackbox_exporter's Prometheus names.
public final class ProbeMetrics: Sendable {
    let success: Gauge
    let duration: Histogram
    let lastDuration: Gauge
    let statusCode: Gauge
    let phaseDuration: Histogram
    let lastPhaseDuration: Gauge
    let certNotAfter: Gauge
    let consecutiveFailures: Gauge
    let healthStatus: Gauge
    let tokenUnavailable: Gauge
    let transitions: Counter
    let restarts: Counter
    let mcpOperationDuration: Histogram
    /// Each target's series, bound to the probe type, transport and labels they were last recorded
    /// with (to skip building and hashing attributes on every probe, and to remove them later).
    private let targets = Mutex<[String: TargetSeries]>([:])
    private let lastHealth = Mutex<[String: HealthStatus]>([:])
    /// The targets that may record (nil: any), so a probe of a target that left while it ran
    /// cannot bring its series back.
    private let current = Mutex<Set<String>?>(nil)
    /// Each target's `mcp.client.operation.duration` series (method, outcome, ... vary), to remove them with it.
    private let mcpSeries = Mutex<[String: Set<[Attribute]>]>([:])
    static let phases = ["resolve", "connect", "tls", "processing", "transfer"]

    /// The series one probe run may write, bound once per target, probe type, transport and labels.
    private struct TargetSeries: Sendable {
        let probeType: ProbeType
        let transport: MCPTransport?
        let labels: [String: String]
        let attributes: [Attribute]
        let success: Gauge.Series
        let duration: Histogram.Series
        let lastDuration: Gauge.Series
        let statusCode: Gauge.Series
        let phases: [Histogram.Series]  // in the order of `ProbeMetrics.phases`
        let lastPhases: [Gauge.Series]
        let certNotAfter: Gauge.Series
        let tokenUnavailable: Gauge.Series
        let consecutiveFailures: Gauge.Series
        let healthStatus: [Gauge.Series]  // in the order of `HealthStatus.allCases`
        let restarts: Counter.Series

        init(_ m: ProbeMetrics, target: String, report: ProbeReport, labels: [String: String]) {
            probeType = report.probeType
            transport = report.transport
            self.labels = labels
            let attributes = ProbeMetrics.attributes(target: target, report: report, labels: labels)
            self.attributes = attributes
            success = m.success.series(attributes)
            duration = m.duration.series(attributes)
            lastDuration = m.lastDuration.series(attributes)
            statusCode = m.statusCode.series(attributes)
            let phaseSets = ProbeMetrics.phases.map { attributes + [Attribute("phase", .string($0))] }
            phases = phaseSets.map { m.phaseDuration.series($0) }
            lastPhases = phaseSets.map { m.lastPhaseDuration.series($0) }
            certNotAfter = m.certNotAfter.series(attributes)
            tokenUnavailable = m.tokenUnavailable.series(attributes)
            consecutiveFailures = m.consecutiveFailures.series(attributes)
            healthStatus = HealthStatus.allCases.map { m.healthStatus.series(attributes + [Attribute("status", .string($0.rawValue))]) }
            restarts = m.restarts.series(attributes)
        }

        /// Labels are compared by identity first: a target's labels are one dictionary, shared
        /// by every probe of it, so this costs no hashing.
        func matches(_ report: ProbeReport, labels: [String: String]) -> Bool {
            probeType == report.probeType && transport == report.transport && self.labels == labels
        }

        func record(phase name: String, _ seconds: Double) {
            guard let i = ProbeMetrics.phases.firstIndex(of: name) else { return }
            phases[i].record(seconds)
            lastPhases[i].set(seconds)
        }
    }

    public init(registry: MetricsRegistry) {
        success = registry.gauge("probe.success", unit: "1", description: "1 when the probe ended healthy or alive")
        duration = registry.histogram("probe.duration", unit: "s", description: "Duration of the whole probe")
        // blackbox_exporter's probe_duration_seconds and probe_http_duration_seconds are gauges of the
        // last probe; /metrics shows these, OTLP carries both them and the histograms.
        lastDuration = registry.gauge("probe.last_duration", unit: "s", description: "Duration of the last probe")
        statusCode = registry.gauge("probe.http.status_code", unit: "1", description: "HTTP status of the probe's main exchange")
        phaseDuration = registry.histogram("probe.http.phase.duration", unit: "s",
                                           description: "Connection phases of the main exchange (resolve, connect, tls, processing, transfer)")
        lastPhaseDuration = registry.gauge("probe.http.phase.last_duration", unit: "s",
                                           description: "Connection phases of the last probe's main exchange")
        certNotAfter = registry.gauge("probe.tls.cert.not_after", unit: "s", description: "Expiry of the peer certificate, unix seconds")
        consecutiveFailures = registry.gauge("probe.consecutive_failures", unit: "1", description: "Failed probes in a row")
        healthStatus = registry.gauge("probe.health.status", unit: "1", description: "1 for the health status of the last probe")
        tokenUnavailable = registry.gauge("probe.auth.token_unavailable", unit: "1",
                                          description: "1 when the OAuth token the target's auth asks for could not be obtained (OAuth targets only)")
        transitions = registry.counter("probe.state.transitions", unit: "1", description: "Changes of the target's state")
        restarts = registry.counter("probe.target.restarts", unit: "1", description: "Restarts detected")
        mcpOperationDuration = registry.histogram("mcp.client.operation.duration", unit: "s",
                                                  description: "Duration of one MCP request or notification, as its client span",
                                                  bounds: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300])
    }

    /// The attributes every probe metric of a target carries: its name, transport, probe type and
    /// labels (names as written, e.g. `team`). Sorted by key, so the series bound to them share
    /// one copy instead of each sorting its own.
    public static func attributes(target: String, report: ProbeReport, labels: [String: String]) -> [Attribute] {
        var attributes = [Attribute("probe.target", .string(target))]
        if let transport = report.transport { attributes.append(Attribute("mcp.transport", .string(transport.rawValue))) }
        attributes.append(Attribute("health.probe_type", .string(report.probeType.rawValue)))
        for (name, value) in labels { attributes.append(Attribute(name, .string(value))) }
        return attributes.sorted { $0.key < $1.key }
    }

    public func record(_ run: ProbeRun, labels: [String: String]) {
        guard current.withLock({ $0?.contains(run.target) ?? true }) else { return }
        let report = run.report
        let step = run.step
        let (series, previous) = targets.withLock { targets -> (TargetSeries, [Attribute]?) in
            if let known = targets[run.target], known.matches(report, labels: labels) { return (known, nil) }
            let fresh = TargetSeries(self, target: run.target, report: report, labels: labels)
            return (fresh, targets.updateValue(fresh, forKey: run.target)?.attributes)
        }
        if let previous {  // the probe type, transport or labels changed: the old series go
            remove(attributes: previous)
            lastHealth.withLock { _ = $0.removeValue(forKey: run.target) }
        }
        series.success.set(report.outcome.health.isSuccess ? 1 : 0)
        series.duration.record(run.duration.seconds)
        series.lastDuration.set(run.duration.seconds)
        if let status = report.httpStatus { series.statusCode.set(status) }
        if let timings = report.timings, timings.total > .zero {
            for (phase, value) in timings.phases { series.record(phase: phase, value.seconds) }
        }
        if let notAfter = report.certificateNotAfter { series.certNotAfter.set(notAfter) }
        if let token = report.token { series.tokenUnavailable.set(token.unavailableReason == nil ? 0 : 1) }
        series.consecutiveFailures.set(step.health.consecutiveFailures)
        // One series per status, 1 for the current one; written only when the status changes.
        let health = report.outcome.health
        if lastHealth.withLock({ $0.updateValue(health, forKey: run.target) }) != health {
            for (status, statusSeries) in zip(HealthStatus.allCases, series.healthStatus) { statusSeries.set(status == health ? 1 : 0) }
        }
        // Counters start at 0 so that increase() sees the first restart.
        series.restarts.add(step.restart == nil ? 0 : 1)
        if let transition = step.transition {
            transitions.add(1, attributes: series.attributes + [Attribute("from", .string(transition.from.rawValue)),
                                                                 Attribute("to", .string(transition.to.rawValue))])
        }
    }

    /// One MCP operation (OpenTelemetry's MCP conventions; attributes as on its span, and `probe.target`).
    func recordMCPOperation(_ seconds: Double, target: String, attributes: [Attribute]) {
        guard current.withLock({ $0?.contains(target) ?? true }) else { return }
        let attributes = attributes + [Attribute("probe.target", .string(target))]
        mcpOperationDuration.record(seconds, attributes: attributes)
        mcpSeries.withLock { _ = $0[target, default: []].insert(attributes) }
    }

    /// From now on only `targets` record; the series of every other target go.
    public func retain(_ targets: Set<String>) {
        let gone = self.targets.withLock { series in
            current.withLock { $0 = targets }
            return series.keys.filter { !targets.contains($0) }
        }
        for name in gone { remove(target: name) }
    }

    /// Forget a target's series (it left the config or this shard).
    public func remove(target: String) {
        for attributes in mcpSeries.withLock({ $0.removeValue(forKey: target) }) ?? [] {
            mcpOperationDuration.remove(attributes: attributes)
        }
        lastHealth.withLock { _ = $0.removeValue(forKey: target) }
        guard let series = targets.withLock({ $0.removeValue(forKey: target) }) else { return }
        remove(attributes: series.attributes)
    }

    private func remove(attributes: [Attribute]) {
        for gauge in [success, statusCode, certNotAfter, consecutiveFailures, tokenUnavailable] { gauge.remove(attributes: attributes) }
        duration.remove(attributes: attributes)
        lastDuration.remove(attributes: attributes)
        restarts.remove(attributes: attributes)
        for phase in Self.phases {
            phaseDuration.remove(attributes: attributes + [Attribute("phase", .string(phase))])
            lastPhaseDuration.remove(attributes: attributes + [Attribute("phase", .string(phase))])
        }
        for status in HealthStatus.allCases {
            healthStatus.remove(attributes: attributes + [Attribute("status", .string(status.rawValue))])
        }
        for from in TargetHealth.State.allCases {
            for to in TargetHealth.State.allCases {
                transitions.remove(attributes: attributes + [Attribute("from", .string(from.rawValue)), Attribute("to", .string(to.rawValue))])
            }
        }
    }
}
