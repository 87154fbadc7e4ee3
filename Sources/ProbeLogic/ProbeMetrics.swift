import Synchronization
import Tracing

/// The probe metric set of the design, recorded once per probe run.
/// OTLP names here; the admin endpoint exposes them under blackbox_exporter's Prometheus names.
public final class ProbeMetrics: Sendable {
    let success: Gauge
    let duration: Histogram
    let statusCode: Gauge
    let phaseDuration: Histogram
    let certNotAfter: Gauge
    let consecutiveFailures: Gauge
    let healthStatus: Gauge
    let transitions: Counter
    let restarts: Counter
    /// The attribute set each target's series were last recorded with, to remove them later.
    private let seriesAttributes = Mutex<[String: [Attribute]]>([:])
    private let lastHealth = Mutex<[String: HealthStatus]>([:])

    public init(registry: MetricsRegistry) {
        success = registry.gauge("probe.success", unit: "1", description: "1 when the probe ended healthy or alive")
        duration = registry.histogram("probe.duration", unit: "s", description: "Duration of the whole probe")
        statusCode = registry.gauge("probe.http.status_code", unit: "1", description: "HTTP status of the probe's main exchange")
        phaseDuration = registry.histogram("probe.http.phase.duration", unit: "s",
                                           description: "Connection phases of the main exchange (resolve, connect, tls, processing, transfer)")
        certNotAfter = registry.gauge("probe.tls.cert.not_after", unit: "s", description: "Expiry of the peer certificate, unix seconds")
        consecutiveFailures = registry.gauge("probe.consecutive_failures", unit: "1", description: "Failed probes in a row")
        healthStatus = registry.gauge("probe.health.status", unit: "1", description: "1 for the health status of the last probe")
        transitions = registry.counter("probe.state.transitions", unit: "1", description: "Changes of the target's state")
        restarts = registry.counter("probe.target.restarts", unit: "1", description: "Restarts detected")
    }

    /// The attributes every probe metric of a target carries.
    public static func attributes(target: String, report: ProbeReport) -> [Attribute] {
        var attributes = [Attribute("probe.target", .string(target))]
        if let transport = report.transport { attributes.append(Attribute("mcp.transport", .string(transport.rawValue))) }
        attributes.append(Attribute("health.probe_type", .string(report.probeType.rawValue)))
        return attributes
    }

    public func record(_ run: ProbeRun, step: TargetHealth.Step) {
        let report = run.report
        let attributes = Self.attributes(target: run.target, report: report)
        let previous = seriesAttributes.withLock { $0.updateValue(attributes, forKey: run.target) }
        if let previous, previous != attributes {
            remove(attributes: previous)
            lastHealth.withLock { _ = $0.removeValue(forKey: run.target) }
        }
        success.set(report.outcome.health.isSuccess ? 1 : 0, attributes: attributes)
        duration.record(run.duration.seconds, attributes: attributes)
        if let status = report.httpStatus { statusCode.set(status, attributes: attributes) }
        if let timings = report.timings, timings.total > .zero {
            for (phase, value) in timings.phases {
                phaseDuration.record(value.seconds, attributes: attributes + [Attribute("phase", .string(phase))])
            }
        }
        if let notAfter = report.certificateNotAfter { certNotAfter.set(notAfter, attributes: attributes) }
        consecutiveFailures.set(step.health.consecutiveFailures, attributes: attributes)
        // One series per status, 1 for the current one; written only when the status changes.
        let health = report.outcome.health
        if lastHealth.withLock({ $0.updateValue(health, forKey: run.target) }) != health {
            for status in HealthStatus.allCases {
                healthStatus.set(status == health ? 1 : 0, attributes: attributes + [Attribute("status", .string(status.rawValue))])
            }
        }
        // Counters start at 0 so that increase() sees the first restart.
        restarts.add(step.restart == nil ? 0 : 1, attributes: attributes)
        if let transition = step.transition {
            transitions.add(1, attributes: attributes + [Attribute("from", .string(transition.from.rawValue)),
                                                          Attribute("to", .string(transition.to.rawValue))])
        }
    }

    /// Forget a target's series (it left the config or this shard).
    public func remove(target: String) {
        lastHealth.withLock { _ = $0.removeValue(forKey: target) }
        guard let attributes = seriesAttributes.withLock({ $0.removeValue(forKey: target) }) else { return }
        remove(attributes: attributes)
    }

    private func remove(attributes: [Attribute]) {
        for gauge in [success, statusCode, certNotAfter, consecutiveFailures] { gauge.remove(attributes: attributes) }
        duration.remove(attributes: attributes)
        restarts.remove(attributes: attributes)
        for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
            phaseDuration.remove(attributes: attributes + [Attribute("phase", .string(phase))])
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
