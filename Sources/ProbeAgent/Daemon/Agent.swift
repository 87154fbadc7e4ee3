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
    /// `admin.tls` (read at start) and `admin.basic_auth_users` (replaced on reload).
    let adminAccess: AdminAccess
    let scheduler: Scheduler
    let reloadSuccess: Gauge
    let credentials: OAuthCredentialStore
    let metrics: ProbeMetrics
    let logs: LogQueue
    /// nil without `discovery:`.
    let discoveryHealth: DiscoveryHealth?
    private let state: Mutex<State>

    struct State {
        var config: AgentConfig
        var staticTargets: [TargetSpec]
        var discoveredTargets: [TargetSpec] = []
    }

    /// The admin server's stop may take this long at most; its endpoints are read-only.
    static let adminStopTimeout: Duration = .seconds(1)

    /// `logs` carries `logger`'s lines; its drops are counted on `/metrics`.
    init(config: AgentConfig, configPath: String, shardFlag: String?, environment: [String: String],
         logger: Logger, logs: LogQueue) throws {
        self.configPath = configPath
        self.shardFlag = shardFlag
        self.environment = environment
        self.logger = logger
        self.logs = logs
        let logger = logger
        telemetry = try DaemonTelemetry(exporter: config.exporter, environment: environment,
                                        diagnostics: { Self.logExporterDiagnostic($0, logger) })
        reloadSuccess = telemetry.registry.gauge("probe_agent.config.reload.success", unit: "1",
                                                 description: "1 if the last config (re)load succeeded")
        reloadSuccess.set(1)
        logs.countDrops(in: telemetry.registry.counter("probe_agent.log_lines.dropped", unit: "1",
                                                       description: "Log lines dropped: queue full, or the write failed"))
        let registry = telemetry.registry
        discoveryHealth = config.discovery.map { DiscoveryHealth(source: $0.url, registry: registry) }
        let metrics = ProbeMetrics(registry: telemetry.registry)
        self.metrics = metrics
        credentials = OAuthCredentialStore(http: TracedHTTP(client: HTTPClient.shared, tracer: telemetry.tracer,
                                                            userAgent: "probe-agent/\(ProbeAgentCommand.version)"))
        let executor = ProbeExecutor(
            runner: ProbeRunner(client: HTTPClient.shared, tracer: telemetry.tracer, clientVersion: ProbeAgentCommand.version,
                                credentials: credentials, metrics: metrics),
            book: book, logger: logger, traceKept: TraceKept.rule(telemetry.tracer))
        book.setHistoryLimit(config.admin.history)
        adminAccess = AdminAccess(users: config.admin.basicAuthUsers, tls: try config.admin.tls.map(AdminTLS.context))
        let book = self.book
        scheduler = Scheduler(
            maxConcurrency: config.scheduler.maxConcurrency,
            lateness: telemetry.registry.histogram("probe_agent.schedule.lateness", unit: "s",
                                                   description: "How late probes start against their schedule",
                                                   bounds: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]),
            isFailing: { book.isFailing($0) },
            skipped: { logger.debug("probe skipped: the previous one is still running", metadata: ["target": "\($0)"]) },
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
        metrics.retain(Set(targets.map(\.target.name)))
        for removed in book.replace(with: targets) { await credentials.forget(removed) }
        await scheduler.setTargets(targets)
    }

    /// Runs until SIGTERM/SIGINT; returns the exit status.
    func run() async throws -> Int32 {
        let signals = SignalEvents(forceExit: { [logger, logs] signal in
            logger.warning("second \(SignalEvents.name(signal)) while stopping: exiting at once")
            logs.flush(timeout: .seconds(1))
            _exit(128 + signal)
        })
        telemetry.start()
        let admin = AdminServer(listen: state.withLock { $0.config.admin.listen }, routes: adminRoutes())
        try await admin.start()
        await applyTargets()
        let config = state.withLock { $0.config }
        logWarnings(of: config)
        logger.notice("probe-agent started", metadata: [
            "targets": "\(currentTargets.count)", "admin": "\(config.admin.listen)", "config": "\(configPath)"])

        let discovery = config.discovery.map { startDiscovery($0, defaults: config) }
        // Probes (child tasks of this one) run on the HTTP client's loop thread: a probe's steps
        // follow its socket events there without waking another thread.
        let scheduler = self.scheduler
        let scheduling = Task(executorPreference: HTTPClient.shared.taskExecutor) { await scheduler.run() }
        // A reload runs beside the wait for a stop signal: a slow one must not delay the stop.
        let reloading = Task { for await _ in signals.reloads { await self.reload() } }
        var stopSignal = SIGTERM
        for await signal in signals.stop { stopSignal = signal }
        reloading.cancel()
        discovery?.cancel()
        await shutDown(after: stopSignal, scheduling: scheduling, admin: admin)
        withExtendedLifetime(signals) {}  // a second signal exits at once until here
        return ExitStatus.success
    }

    /// Stops scheduling, lets probes in flight run until the drain deadline and cancels the rest,
    /// flushes telemetry within its own deadline. Every wait is bounded, so the whole takes at
    /// most about drain + flush timeouts.
    private func shutDown(after signal: Int32, scheduling: Task<Void, Never>, admin: AdminServer) async {
        let bounds = state.withLock { $0.config.shutdown }
        logger.notice("stopping", metadata: ["signal": "\(SignalEvents.name(signal))",
                                             "drain_timeout": "\(bounds.drainTimeout.configText)",
                                             "flush_timeout": "\(bounds.flushTimeout.configText)"])
        scheduler.stop()
        if await !Self.wait(for: scheduling, until: .now + bounds.drainTimeout) {
            logger.warning("in-flight probes did not finish within \(bounds.drainTimeout.configText); cancelling them")
            scheduling.cancel()
        }
        let flushDeadline = ContinuousClock.now + bounds.flushTimeout
        // Cancelled probes end at once and their spans join the flush; one that ignores
        // cancellation is left behind at the flush deadline.
        if await !Self.wait(for: scheduling, until: flushDeadline) {
            logger.warning("probes still running after cancellation; their spans are lost")
        }
        let telemetry = self.telemetry
        // Each exporter logs what it delivered and what it could not.
        if await !Self.wait(for: Task { await telemetry.shutdown(deadline: flushDeadline) },
                            until: flushDeadline + .milliseconds(200)) {
            logger.warning("telemetry flush did not finish within \(bounds.flushTimeout.configText); what was still queued is lost")
        }
        _ = await Self.wait(for: Task { await admin.stop() }, until: .now + Self.adminStopTimeout)
        logger.notice("stopped")
    }

    /// SIGHUP: load the config again; a bad one keeps the old one running.
    func reload() async {
        do {
            let config = try ConfigLoader.load(path: configPath, environment: environment)
            let shard = try Shard.effective(flag: shardFlag, environment: environment, configured: config.shard)
            logWarnings(of: config)
            state.withLock {
                $0.config = config
                $0.staticTargets = Self.owned(config.targets, shard: shard)
            }
            book.setHistoryLimit(config.admin.history)
            adminAccess.update(users: config.admin.basicAuthUsers)
            await applyTargets()
            reloadSuccess.set(1)
            logger.notice("config reloaded", metadata: ["targets": "\(currentTargets.count)"])
        } catch {
            reloadSuccess.set(0)
            logger.error("config reload failed; keeping the running config", metadata: ["error": "\(error)"])
        }
    }

    private func logWarnings(of config: AgentConfig) {
        for warning in config.warnings { logger.warning("config warning: \(warning)") }
    }

    /// Polls the gateway; each good list replaces the discovered targets (static ones win on a name clash).
    private func startDiscovery(_ settings: ContextForgeDiscovery, defaults: AgentConfig) -> Task<Void, Never> {
        let discoverer = ContextForgeDiscoverer(settings: settings, client: HTTPClient.shared, defaults: defaults.defaults)
        let logger = self.logger
        let loop = DiscoveryLoop(discoverer: discoverer, staticTargets: [], log: { logger.notice("\($0)") },
                                 warn: { logger.warning("\($0)") }, health: discoveryHealth) {
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
        let heartbeat = scheduler.heartbeat
        return AdminRoutes(
            health: { heartbeat.isAlive() },
            readiness: { book.readiness() },
            metrics: { PrometheusText.render(telemetry.snapshot()) },
            status: { [discoveryHealth] in book.statusJSON(discovery: discoveryHealth) },
            pages: StatusPages(
                page: { [weak self] in
                    let settings = self?.state.withLock { StatusPageSettings(admin: $0.config.admin, discovery: $0.config.discovery) }
                    return StatusPage(entries: book.entries, settings: settings ?? StatusPageSettings())
                },
                statusWithHistory: { [discoveryHealth] in book.statusJSON(discovery: discoveryHealth, history: $0) }),
            access: adminAccess)
    }

    /// Waits for `task` until `deadline`; false if it is still running then (it is left running:
    /// awaiting a task's value cannot be cancelled, so the wait must not be structured around it).
    static func wait(for task: Task<Void, Never>, until deadline: ContinuousClock.Instant) async -> Bool {
        let (outcome, report) = AsyncStream.makeStream(of: Bool.self)
        Task { await task.value; report.yield(true) }
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            report.yield(false)
        }
        defer { timer.cancel() }
        for await finished in outcome { return finished }
        return false
    }
}
