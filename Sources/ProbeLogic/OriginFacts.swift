import HTTPClient
import Synchronization

/// What the agent has learned per origin (`scheme://host:port`), so later probes speak to a
/// server the way it wants at once: its protocol era (learned by `auto` probes).
public final class OriginFacts: Sendable {
    public enum Era: String, Sendable {
        /// 2024-11-05 HTTP+SSE: a GET stream and a POST endpoint.
        case legacy
        /// 2025-era handshake: `initialize`, sessions.
        case handshake
        /// 2026-07-28: stateless, `server/discover`.
        case modern
    }

    private let eras = Mutex<[String: Era]>([:])

    public init() {}

    public func era(of url: String) -> Era {
        guard let origin = HTTPURL(url)?.origin else { return .handshake }
        return eras.withLock { $0[origin] } ?? .handshake
    }

    public func remember(_ era: Era, for url: String) {
        guard let origin = HTTPURL(url)?.origin else { return }
        eras.withLock { $0[origin] = era }
    }
}
