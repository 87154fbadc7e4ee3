import Tracing

/// Per-target health across probes: thresholds, transitions, outage start, restart marks.
/// A pure value: `next` returns the new state and what happened; nothing else changes.
public struct TargetHealth: Sendable, Equatable {
    public enum State: String, Sendable, Equatable, CaseIterable {
        case unknown
        case up
        case degraded
        case down
    }

    public var state: State = .unknown
    public var consecutiveFailures = 0
    public var consecutiveSuccesses = 0
    /// The first failing probe of the current failure streak (a recovery links to it).
    public var firstFailure: SpanContext?
    /// Restart marks seen last (`mcp.server.version`, `header:X-Instance-Id`, ...).
    public var marks: [String: RestartMark] = [:]

    public init() {}

    /// One probe's contribution.
    public struct Observation: Sendable, Equatable {
        public var health: HealthStatus
        public var probe: SpanContext
        public var marks: [String: RestartMark]

        public init(health: HealthStatus, probe: SpanContext, marks: [String: RestartMark] = [:]) {
            self.health = health
            self.probe = probe
            self.marks = marks
        }
    }

    public struct Transition: Sendable, Equatable {
        public var from: State
        public var to: State

        public init(from: State, to: State) {
            self.from = from
            self.to = to
        }
    }

    public struct Step: Sendable, Equatable {
        public var health: TargetHealth
        public var transition: Transition?
        /// Why we believe the target restarted, if we do.
        public var restart: String?
        /// On recovery: the first failing probe of the outage that ended.
        public var recoveryLink: SpanContext?

        public init(health: TargetHealth, transition: Transition? = nil, restart: String? = nil, recoveryLink: SpanContext? = nil) {
            self.health = health
            self.transition = transition
            self.restart = restart
            self.recoveryLink = recoveryLink
        }
    }

    public func next(_ observation: Observation, policy: HealthPolicy) -> Step {
        var h = self
        var step = Step(health: h, transition: nil, restart: nil, recoveryLink: nil)
        let target: State?
        if observation.health.isSuccess {
            h.consecutiveSuccesses += 1
            h.consecutiveFailures = 0
            target = h.consecutiveSuccesses >= policy.successThreshold ? .up : nil
        } else {
            if h.consecutiveFailures == 0 { h.firstFailure = observation.probe }
            h.consecutiveFailures += 1
            h.consecutiveSuccesses = 0
            target = h.consecutiveFailures >= policy.failureThreshold
                ? (observation.health == .degraded ? .degraded : .down) : nil
        }
        if let target, target != h.state {
            step.transition = Transition(from: h.state, to: target)
            // A recovery is not a restart: only a changed mark says the process is a new one.
            if target == .up, h.state == .down || h.state == .degraded { step.recoveryLink = h.firstFailure }
            h.state = target
        }
        if h.state == .up, h.consecutiveFailures == 0 { h.firstFailure = nil }

        for (key, mark) in observation.marks.sorted(by: { $0.key < $1.key }) {
            if let previous = h.marks[key], let evidence = mark.restartEvidence(since: previous, key: key) {
                step.restart = evidence
            }
            h.marks[key] = mark
        }
        step.health = h
        return step
    }
}

/// An observed value that betrays a restart: by changing, or (uptime) by going down.
public struct RestartMark: Sendable, Equatable {
    public enum Rule: Sendable, Equatable {
        case changes
        case decreases
    }

    public var value: String
    public var rule: Rule

    public init(_ value: String, rule: Rule = .changes) {
        self.value = value
        self.rule = rule
    }

    func restartEvidence(since previous: RestartMark, key: String) -> String? {
        switch rule {
        case .changes:
            return previous.value != value ? "\(key) changed from \(previous.value) to \(value)" : nil
        case .decreases:
            guard let before = Double(previous.value), let now = Double(value), now < before else { return nil }
            return "\(key) went down from \(previous.value) to \(value)"
        }
    }
}
