import ProbeLogic

/// Scheduling fields shared by `defaults:` and each target, which overrides them one by one.
struct TargetDefaults: Equatable {
    var interval: Duration = .seconds(30)
    /// As set in the file (the target or `defaults:`); nil when set nowhere.
    var timeout: Duration?
    var failureThreshold = 3
    var successThreshold = 1
    var failingInterval: Duration?

    static let defaultTimeout: Duration = .seconds(10)

    /// The bound on one probe. With no timeout set, Prometheus' rule for `scrape_timeout`: the
    /// default, or the interval (and failing interval) when shorter, so `interval: 1s` alone works.
    var probeTimeout: Duration {
        timeout ?? min(Self.defaultTimeout, interval, failingInterval ?? interval)
    }

    static let keys = ["interval", "timeout", "failure_threshold", "success_threshold", "failing_interval"]
    static let thresholds = 1...10_000

    static func decode(_ node: ConfigNode) -> TargetDefaults {
        guard let fields = ConfigMapping(node, keys: keys) else { return TargetDefaults() }
        return TargetDefaults().overlaid(with: fields, inherited: false)
    }

    /// These values with the ones present in `fields` replacing them; checks that a timeout that is
    /// set fits in the interval, reporting at whichever of the two `fields` sets.
    func overlaid(with fields: ConfigMapping, inherited: Bool) -> TargetDefaults {
        var result = self
        var durationsValid = true
        func duration(_ key: String) -> Duration? {
            guard let node = fields[key] else { return nil }
            let value = node.duration()
            if value == nil { durationsValid = false }
            return value
        }
        if let value = duration("interval") { result.interval = value }
        if let value = duration("timeout") { result.timeout = value }
        if let value = duration("failing_interval") { result.failingInterval = value }
        if let value = fields["failure_threshold"]?.int(in: Self.thresholds) { result.failureThreshold = value }
        if let value = fields["success_threshold"]?.int(in: Self.thresholds) { result.successThreshold = value }
        if durationsValid { result.checkTimeout(fields, inherited: inherited) }
        return result
    }

    private func checkTimeout(_ fields: ConfigMapping, inherited: Bool) {
        guard let timeout else { return }
        func origin(_ key: String) -> String { inherited && !fields.has(key) ? ", from defaults" : "" }
        let limits = [("interval", interval)] + (failingInterval.map { [("failing_interval", $0)] } ?? [])
        for (key, limit) in limits where timeout > limit {
            if fields.has("timeout") {
                fields.field("timeout").report("\(timeout.configText) must not be longer than \(key) (\(limit.configText)\(origin(key)))")
            } else if fields.has(key) {
                fields.field(key).report("\(limit.configText) must not be shorter than timeout (\(timeout.configText)\(origin("timeout")))")
            }
        }
    }
}

extension TargetDefaults {
    var policy: HealthPolicy { HealthPolicy(failureThreshold: failureThreshold, successThreshold: successThreshold) }
}

extension Duration {
    /// As written in a config: `30s`, `500ms`, `2m`, `1h`.
    var configText: String {
        let ms = nanoseconds / 1_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        let seconds = ms / 1000
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
