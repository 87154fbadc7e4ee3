import HTTPClient
import Synchronization

/// What the agent has learned per origin (`scheme://host:port`), so later probes speak to a
/// server the way it wants at once: its protocol era (learned by `auto` probes). An era learned
/// at a URL is kept for that URL too, so two endpoints of one origin in different eras (an
/// `/sse` and an `/mcp` of one proxy) do not unlearn each other. A remembered era is only where a
/// probe starts: one that meets another era falls back in the same probe (StreamableHTTPProbe).
public final class OriginFacts: Sendable {
    public enum Era: String, Sendable {
        /// 2024-11-05 HTTP+SSE: a GET stream and a POST endpoint.
        case legacy
        /// 2025-era handshake: `initialize`, sessions.
        case handshake
        /// 2026-07-28: stateless, `server/discover`.
        case modern
    }

    private struct Eras {
        var byURL: [String: Era] = [:]
        var byOrigin: [String: Era] = [:]
    }

    private let eras = Mutex(Eras())

    public init() {}

    public func era(of url: String) -> Era {
        guard let origin = HTTPURL(url)?.origin else { return .handshake }
        return eras.withLock { $0.byURL[url] ?? $0.byOrigin[origin] } ?? .handshake
    }

    public func remember(_ era: Era, for url: String) {
        guard let origin = HTTPURL(url)?.origin else { return }
        eras.withLock {
            $0.byURL[url] = era
            $0.byOrigin[origin] = era
        }
    }
}
