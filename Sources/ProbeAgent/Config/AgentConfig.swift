import HTTPClient
import OTLPExporter
import ProbeLogic

/// The agent's configuration, parsed and validated once at load (see `ConfigLoader`).
/// Secrets are already resolved: `${VAR}` from the environment, `*_file` fields read.
struct AgentConfig: Equatable {
    var admin: AdminSettings
    /// trace | debug | info | notice | warning | error | critical
    var logLevel: String
    /// This replica's share of the targets; `--shard` / PROBE_AGENT_SHARD override it.
    var shard: Shard?
    /// Applied to targets that do not set their own (and to discovered targets).
    var defaults: TargetDefaults = TargetDefaults()
    var scheduler: SchedulerSettings
    var shutdown = ShutdownSettings()
    /// nil: export is configured by the OTEL_* environment alone.
    var exporter: ExporterSettings?
    var targets: [TargetSpec]
    var discovery: ContextForgeDiscovery?
    /// What loads but deserves a look (a restart signal that can never fire): `validate` prints
    /// these, `run` logs them.
    var warnings: [ConfigError] = []
}

struct AdminSettings: Equatable {
    var listen: ListenAddress = ListenAddress(host: "127.0.0.1", port: 9464)
    /// Probes kept per target for the status page and `/status?history=N`.
    var history = AdminSettings.defaultHistory
    /// The label whose values group the status page's rows.
    var groupBy: String?
    /// Where a probe's trace is shown: a URL with `{trace_id}` in it.
    var traceURL: String?
    /// User name → bcrypt hash; empty: no authentication.
    var basicAuthUsers: [String: String] = [:]
    var tls: AdminTLSSettings?

    static let defaultHistory = 120
    static let maxHistory = 10_000
}

/// `admin.tls`: the admin endpoints over HTTPS; with `clientCAFile`, only clients with a
/// certificate it signed get in.
struct AdminTLSSettings: Equatable {
    var certFile: String
    var keyFile: String
    var clientCAFile: String?
}

/// `host:port` or `[v6]:port`.
struct ListenAddress: Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"),
              let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
            guard host.contains(":") else { return nil }
        } else if host.contains(":") {
            return nil  // a bare IPv6 address needs brackets
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || "[]/".contains($0) }) else { return nil }
        self.host = String(host)
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

struct SchedulerSettings: Equatable {
    /// Probes in flight at once, across all targets.
    var maxConcurrency: Int = 64
}

/// SIGTERM's bounds: probes still running after `drainTimeout` are cancelled, then telemetry gets
/// `flushTimeout` to go out. The deploy files' grace periods exceed their sum (docs/operations.md).
struct ShutdownSettings: Equatable {
    var drainTimeout: Duration = .seconds(10)
    var flushTimeout: Duration = .seconds(5)
}

/// The `exporter:` section. Fields left nil fall back to OTEL_* variables, then to OTLP defaults
/// (`apply(to:)`, DaemonTelemetry.swift).
struct ExporterSettings: Equatable {
    var endpoint: String?
    var `protocol`: OTLPProtocol?
    var compression: OTLPCompression?
    var timeout: Duration?
    /// Header values are secrets (typically an authorization token).
    var headers: [String: Secret] = [:]
    /// Also write every span as an OTLP/JSON line to this file (works without a collector).
    var file: String?
    /// Print spans to standard output.
    var console: Bool = false
    /// nil: OTEL_TRACES_SAMPLER, else the SDK default (parentbased_always_on).
    var sampling: SamplingSettings?
    /// Undeliverable export requests wait on disk (`exporter.spool`).
    var spool: SpoolSettings?
}

enum SamplingSettings: Equatable {
    case alwaysOn
    /// Keep this fraction of probe traces.
    case ratio(Double)
    /// Keep every trace of a failed probe or a state change, and this fraction of the rest.
    case failureBiased(ratio: Double)
}

/// One configured target: what to probe and how to judge it (`Target`), and how often.
struct TargetSpec: Equatable {
    var target: Target
    var interval: Duration
    /// Faster interval while the target is failing (nil: `interval`).
    var failingInterval: Duration?
}

/// Targets discovered from an IBM ContextForge gateway's `GET /gateways`.
struct ContextForgeDiscovery: Equatable {
    var url: String
    var token: Secret
    var interval: Duration = .seconds(60)
    var includeInactive: Bool = false
}
