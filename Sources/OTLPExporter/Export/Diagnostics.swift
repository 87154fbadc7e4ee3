import Synchronization

/// Where exporter diagnostics go; the app wires it to its logger.
public typealias DiagnosticsSink = @Sendable (String) -> Void

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
        if let userinfo = EndpointURL.userinfo(config.endpoint) {
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

/// Failure lines: the first at once, then at most one per interval carrying the count of those
/// held back. Other lines pass straight through.
final class RateLimitedDiagnostics: Sendable {
    private let sink: DiagnosticsSink
    private let scrubber: SecretScrubber
    private let interval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state = Mutex<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))

    init(sink: @escaping DiagnosticsSink, scrubber: SecretScrubber, interval: Duration = .seconds(60),
         now: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.sink = sink
        self.scrubber = scrubber
        self.interval = interval
        self.now = now
    }

    func info(_ message: String) { sink(scrubber.scrub(message)) }

    func failure(_ message: @autoclosure () -> String) {
        let t = now()
        let held: Int? = state.withLock { s in
            if let last = s.last, t - last < interval {
                s.suppressed += 1
                return nil
            }
            defer { s = (t, 0) }
            return s.suppressed
        }
        guard let held else { return }
        let suffix = held > 0 ? " (\(held) similar failure\(held == 1 ? "" : "s") since the last report)" : ""
        sink(scrubber.scrub(message()) + suffix)
    }
}
