import Foundation
import HTTPClient
import Logging
import OTLPExporter
import ProbeLogic
import Synchronization
import Tracing

/// The running daemon: config, telemetry, scheduler, admin endpoints, discovery, signals.
final class Agent: Sendable {
    let configPath: String
    let shardFlag: String?
    let environment: [String: String]
    let logger: Logger
    let telemetry: DaemonTelemetry
    let book = TargetBook()
    let scheduler: Scheduler
    let reloadSuccess: Gauge
    let credentials: OAuthCredentialStore
    let metrics: ProbeMetrics
    private let state: Mutex<State>

    struct State {
        var config: AgentConfig
        var staticTargets: [TargetSpec]
        var discoveredTargets: [TargetSpec] = []
    }

    /// How long in-flight probes may run on after SIGTERM, and how long telemetry may drain.
    static let drainTimeout: Duration = .seconds(10)
    static let flushTimeout: Duration = .seconds(5)

    init(config: AgentConfig, configPath: String, shardFlag: String?, environment: [String: String], logger: Logger) throws {
        self.configPath = configPath
        self.shardFlag = shardFlag
        self.environment = environment
        self.logger = logger
        let logger = logger
        telemetry = try DaemonTelemetry(exporter: config.exporter, environment: environment,
                                        diagnostics: { Self.logExporterDiagnostic($0, logger) })
        reloadSuccess = telemetry.registry.gauge("probe_agent.config.reload.success", unit: "1",
                                                 description: "1 if the last config (re)load succeeded")
        reloadSuccess.set(1)
        let metrics = ProbeMetrics(registry: telemetry.registry)
        self.metrics = metrics
        credentials = OAuthCredentialStore(http: TracedHTTP(client: HTTPClient.shared, tracer: telemetry.tracer,
                                                            userAgent: "probe-agent/\(ProbeAgentCommand.version)"))
        let executor = ProbeExecutor(
            runner: ProbeRunner(client: HTTPClient.shared, tracer: telemetry.tracer, clientVersion: ProbeAgentCommand.version,
                                credentials: credentials),
            book: book, metrics: metrics, logger: logger)
        let book = self.book
        scheduler = Scheduler(
            maxConcurrency: config.scheduler.maxConcurrency,
            lateness: telemetry.registry.histogram("probe_agent.schedule.lateness", unit: "s",
                                                   description: "How late probes start against their schedule",
                                                   bounds: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]),
            isFailing: { book.isFailing($0) },
            execute: { await executor.execute($0) })
        let shard = try Shard.effective(flag: shardFlag, environment: environment, configured: config.shard)
        state = Mutex(State(config: config, staticTargets: Self.owned(config.targets, shard: shard)))
    }

    /// The exporter decides each line's level; this maps it onto the logger's.
    static func logExporterDiagnostic(_ diagnostic: Diagnostic, _ logger: Logger) {
        let level: Logger.Level = switch diagnostic.level {
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        }
        logger.log(level: level, "\(diagnostic.message)")
    }

    static func owned(_ specs: [TargetSpec], shard: Shard?) -> [TargetSpec] {
        guard let shard else { return specs }
        return specs.filter { shard.owns($0.target.name) }
    }

    private var currentTargets: [TargetSpec] {
        state.withLock { s in
            let staticNames = Set(s.staticTargets.map(\.target.name))
            return s.staticTargets + s.discoveredTargets.filter { !staticNames.contains($0.target.name) }
        }
    }

    private func applyTargets() async {
        let targets = currentTargets
        for removed in book.replace(with: targets) {
            await credentials.forget(removed)
            metrics.remove(target: removed)
        }
        await scheduler.setTargets(targets)
    }

    /// Runs until SIGTERM/SIGINT; returns the exit status.
    func run() async throws -> Int32 {
        telemetry.start()
        let admin = AdminServer(listen: state.withLock { $0.config.admin.listen }, routes: adminRoutes())
        try await admin.start()
        await applyTargets()
        let config = state.withLock { $0.config }
        logger.notice("probe-agent started", metadata: [
            "targets": "\(currentTargets.count)", "admin": "\(config.admin.listen)", "config": "\(configPath)"])

        let discovery = config.discovery.map { startDiscovery($0, defaults: config) }
        // Probes (child tasks of this one) run on the HTTP client's loop thread: a probe's steps
        // follow its socket events there without waking another thread.
        let scheduler = self.scheduler
        let scheduling = Task(executorPreference: HTTPClient.shared.taskExecutor) { await scheduler.run() }
        for await signal in SignalEvents.stream([SIGTERM, SIGINT, SIGHUP]) {
            if signal == SIGHUP {
                await reload()
                continue
            }
            logger.notice("stopping", metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : "SIGINT")"])
            break
        }
        discovery?.cancel()
        await scheduler.stop()
        let drained = await Self.wait(for: scheduling, timeout: Self.drainTimeout)
        if !drained {
            logger.warning("in-flight probes did not finish within \(Self.drainTimeout); cancelling them")
            scheduling.cancel()
            _ = await scheduling.value
        }
        await telemetry.shutdown(deadline: .now + Self.flushTimeout)  // logs what each exporter delivered
        await admin.stop()
        logger.notice("stopped")
        return ExitStatus.success
    }

    /// SIGHUP: load the config again; a bad one keeps the old one running.
    func reload() async {
        do {
            let config = try ConfigLoader.load(path: configPath, environment: environment)
            let shard = try Shard.effective(flag: shardFlag, environment: environment, configured: config.shard)
            state.withLock {
                $0.config = config
                $0.staticTargets = Self.owned(config.targets, shard: shard)
            }
            await applyTargets()
            reloadSuccess.set(1)
            logger.notice("config reloaded", metadata: ["targets": "\(currentTargets.count)"])
        } catch {
            reloadSuccess.set(0)
            logger.error("config reload failed; keeping the running config", metadata: ["error": "\(error)"])
        }
    }

    /// Polls the gateway; each good list replaces the discovered targets (static ones win on a name clash).
    private func startDiscovery(_ settings: ContextForgeDiscovery, defaults: AgentConfig) -> Task<Void, Never> {
        let discoverer = ContextForgeDiscoverer(settings: settings, client: HTTPClient.shared, defaults: defaults.defaults)
        let logger = self.logger
        let loop = DiscoveryLoop(discoverer: discoverer, staticTargets: [], log: { logger.notice("\($0)") }) {
            [weak self] (specs: [TargetSpec]) in
            guard let self else { return }
            let shard = try? Shard.effective(flag: shardFlag, environment: environment,
                                             configured: state.withLock { $0.config.shard })
            state.withLock { $0.discoveredTargets = Self.owned(specs, shard: shard) }
            await applyTargets()
        }
        return Task { await loop.run() }
    }

    private func adminRoutes() -> AdminRoutes {
        let book = self.book
        let telemetry = self.telemetry
        return AdminRoutes(
            health: { true },
            readiness: { book.readiness() },
            metrics: { PrometheusText.render(telemetry.snapshot()) },
            status: { book.statusJSON() })
    }

    /// Waits for `task` up to `timeout`; false if it is still running.
    static func wait(for task: Task<Void, Never>, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await task.value; return true }
            group.addTask { try? await Task.sleep(for: timeout); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
