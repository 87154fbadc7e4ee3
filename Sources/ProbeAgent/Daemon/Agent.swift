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
    /// `--log-level`: when given, it wins over the file's `log_level`, at start and on reload.
    let logLevelFlag: String?
    let environment: [String: String]
    let logger: Logger
    let telemetry: DaemonTelemetry
    let book = TargetBook()
    /// `admin.tls` (read at start) and `admin.basic_auth_users` (replaced on reload).
    let adminAccess: AdminAccess
    let scheduler: Scheduler
    let reloadSuccess: Gauge
    /// Unix time of the last load that applied in full (the start counts).
    let lastReloadSuccess: Gauge
    let credentials: OAuthCredentialStore
    let metrics: ProbeMetrics
    let logs: LogQueue
    let logLevel: LogLevelSwitch
    private let state: Mutex<State>

    struct State {
        /// The config running: the file's last good load, less what a reload could not apply.
        var config: AgentConfig
        var shard: Shard?
        /// The configured targets this replica owns.
        var staticTargets: [TargetSpec]
        /// As discovery delivered them, all shards' (the shard takes its share in `currentTargets`).
        var discoveredTargets: [TargetSpec] = []
        var discovery: DiscoveryRun?
        /// Counts discovery (re)starts: a stopped loop's late delivery is recognised and dropped.
        var discoveryGeneration = 0
        var admin: AdminServer?
        /// Set when the shutdown begins: a reload under way then opens no new listener.
        var stopping = false
    }

    /// The discovery loop running, and what it was started with.
    struct DiscoveryRun {
        var settings: ContextForgeDiscovery
        var health: DiscoveryHealth
        var task: Task<Void, Never>
        var generation: Int
    }

    /// The admin server's stop may take this long at most; its endpoints are read-only.
    static let adminStopTimeout: Duration = .seconds(1)

    /// `logs` carries `logger`'s lines; its drops are counted on `/metrics`.
    /// `logLevel` sets the level of every logger `logs` serves.
    init(config: AgentConfig, configPath: String, shardFlag: String?, logLevelFlag: String?, environment: [String: String],
         logger: Logger, logs: LogQueue, logLevel: LogLevelSwitch) throws {
        self.configPath = configPath
        self.shardFlag = shardFlag
        self.logLevelFlag = logLevelFlag
        self.environment = environment
        self.logger = logger
        self.logs = logs
        self.logLevel = logLevel
        let logger = logger
        telemetry = try DaemonTelemetry(exporter: config.exporter, environment: environment,
                                        diagnostics: { Self.logExporterDiagnostic($0, logger) })
        reloadSuccess = telemetry.registry.gauge("probe_agent.config.reload.success", unit: "1",
                                                 description: "1 if the last config (re)load applied in full")
        reloadSuccess.set(1)
        lastReloadSuccess = telemetry.registry.gauge("probe_agent.config.reload.last_success_timestamp", unit: "s",
                                                     description: "Unix time of the last config (re)load that applied in full")
        lastReloadSuccess.set(Self.unixSeconds())
        logs.countDrops(in: telemetry.registry.counter("probe_agent.log_lines.dropped", unit: "1",
                                                       description: "Log lines dropped: queue full, or the write failed"))
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
        state = Mutex(State(config: config, shard: shard, staticTargets: Self.owned(config.targets, shard: shard)))
    }

    static func unixSeconds() -> Double { Double(wallClockUnixNano()) / 1e9 }

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
            return s.staticTargets + Self.owned(s.discoveredTargets, shard: s.shard).filter { !staticNames.contains($0.target.name) }
        }
    }

    /// A reload and a discovery poll may apply at once, the older list last: whoever finds the
    /// list changed after applying applies again, so the newest one ends up everywhere.
    private func applyTargets() async {
        var targets = currentTargets
        while true {
            metrics.retain(Set(targets.map(\.target.name)))
            for removed in book.replace(with: targets) { await credentials.forget(removed) }
            await scheduler.setTargets(targets)
            let now = currentTargets
            if now == targets { return }
            targets = now
        }
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
        state.withLock { $0.admin = admin }
        await applyTargets()
        let config = state.withLock { $0.config }
        logWarnings(of: config)
        logger.notice("probe-agent started", metadata: [
            "targets": "\(currentTargets.count)", "admin": "\(config.admin.listen)", "config": "\(configPath)"])

        setDiscovery(config.discovery, defaults: config.defaults)
        // Probes (child tasks of this one) run on the HTTP client's loop thread: a probe's steps
        // follow its socket events there without waking another thread.
        let scheduler = self.scheduler
        let scheduling = Task(executorPreference: HTTPClient.shared.taskExecutor) { await scheduler.run() }
        // A reload runs beside the wait for a stop signal: a slow one must not delay the stop.
        let reloading = Task { for await _ in signals.reloads { await self.reload() } }
        var stopSignal = SIGTERM
        for await signal in signals.stop { stopSignal = signal }
        reloading.cancel()
        // A reload may have moved the admin listener.
        let (discovery, currentAdmin) = state.withLock { s in
            s.stopping = true
            return (s.discovery?.task, s.admin)
        }
        discovery?.cancel()
        await shutDown(after: stopSignal, scheduling: scheduling, admin: currentAdmin)
        withExtendedLifetime(signals) {}  // a second signal exits at once until here
        return ExitStatus.success
    }

    /// Stops scheduling, lets probes in flight run until the drain deadline and cancels the rest,
    /// flushes telemetry within its own deadline. Every wait is bounded, so the whole takes at
    /// most about drain + flush timeouts.
    private func shutDown(after signal: Int32, scheduling: Task<Void, Never>, admin: AdminServer?) async {
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
        _ = await Self.wait(for: Task { await admin?.stop() }, until: .now + Self.adminStopTimeout)
        logger.notice("stopped")
    }

    /// SIGHUP: load the config again and apply every section in place (docs/operations.md,
    /// "Reloading the config"). A bad file keeps the old config running; a section that cannot be
    /// applied (an admin address that cannot be bound) keeps its old value and the reload counts
    /// as failed, so the next SIGHUP tries it again.
    func reload() async {
        let config: AgentConfig
        let shard: Shard?
        do {
            config = try ConfigLoader.load(path: configPath, environment: environment)
            shard = try Shard.effective(flag: shardFlag, environment: environment, configured: config.shard)
        } catch {
            reloadSuccess.set(0)
            logger.error("config reload failed; keeping the running config", metadata: ["error": "\(error)"])
            return
        }
        logWarnings(of: config)
        let (old, oldShard, ownedBefore) = state.withLock { ($0.config, $0.shard, $0.staticTargets) }
        let owned = Self.owned(config.targets, shard: shard)
        var changes = ConfigChanges(from: old, to: config, ownedBefore: ownedBefore, ownedAfter: owned,
                                    shardApplied: shard != oldShard || old.shard == config.shard,
                                    logLevelApplied: logLevelFlag == nil)
        if logLevelFlag == nil, let level = Logger.Level(rawValue: config.logLevel) { logLevel.level = level }
        await scheduler.setMaxConcurrency(config.scheduler.maxConcurrency)

        // What runs from now on: a section that cannot be applied keeps its old value, so the
        // next reload sees the difference and tries again.
        var applied = config
        book.setHistoryLimit(config.admin.history)
        adminAccess.update(users: config.admin.basicAuthUsers)
        if config.admin.tls != old.admin.tls {
            applied.admin.tls = old.admin.tls
            changes.failed("admin.tls", "needs a restart")
        }
        if config.admin.listen != old.admin.listen, let problem = await rebindAdmin(to: config.admin.listen) {
            applied.admin = old.admin
            changes.failed("admin.listen", "kept \(old.admin.listen)")
            logger.warning("\(problem); the admin endpoints stay on \(old.admin.listen)")
        }
        if config.exporter?.spool != old.exporter?.spool {
            // The spool is opened once, at start (one agent per directory): moving it needs a restart.
            if applied.exporter == nil { applied.exporter = ExporterSettings() }
            applied.exporter?.spool = old.exporter?.spool
            changes.failed("exporter", "exporter.spool applies at the next start")
        }
        if applied.exporter != old.exporter {
            do {
                _ = try telemetry.reconfigure(exporter: applied.exporter, drainTimeout: config.shutdown.flushTimeout)
            } catch {
                applied.exporter = old.exporter
                changes.failed("exporter", "\(error)")
            }
        }
        // `shutdown` needs nothing here: the shutdown reads its bounds from the running config.
        state.withLock {
            $0.config = applied
            $0.shard = shard
            $0.staticTargets = owned
        }
        if config.discovery != old.discovery || (config.discovery != nil && config.defaults != old.defaults) {
            setDiscovery(config.discovery, defaults: config.defaults)
        }
        await applyTargets()

        let complete = applied == config
        reloadSuccess.set(complete ? 1 : 0)
        if complete { lastReloadSuccess.set(Self.unixSeconds()) }
        logger.log(level: complete ? .notice : .warning, "config reloaded: \(changes.summary)",
                   metadata: ["targets": "\(currentTargets.count)"])
    }

    private func logWarnings(of config: AgentConfig) {
        for warning in config.warnings { logger.warning("config warning: \(warning)") }
    }

    /// Listens on `listen` first, then closes the old listener; when the new address cannot be
    /// bound the old listener stays and the problem is returned.
    private func rebindAdmin(to listen: ListenAddress) async -> AdminServerError? {
        let next = AdminServer(listen: listen, routes: adminRoutes())
        do {
            try await next.start()
        } catch {
            return error as? AdminServerError ?? AdminServerError(address: listen, reason: "\(error)")
        }
        let (adopted, previous) = state.withLock { s -> (Bool, AdminServer?) in
            guard !s.stopping else { return (false, nil) }
            defer { s.admin = next }
            return (true, s.admin)
        }
        let closing = adopted ? previous : next
        _ = await Self.wait(for: Task { await closing?.stop() }, until: .now + Self.adminStopTimeout)
        return nil
    }

    /// (Re)starts discovery with `settings`, or stops it (nil). Targets found before stay until the
    /// new source's first good answer replaces them; without discovery they go.
    private func setDiscovery(_ settings: ContextForgeDiscovery?, defaults: TargetDefaults) {
        let previous = state.withLock { s in
            defer { s.discovery = nil }
            return s.discovery
        }
        previous?.task.cancel()
        guard let settings else {
            previous?.health.retire()
            state.withLock { $0.discoveredTargets = [] }
            return
        }
        let health: DiscoveryHealth
        if let previous, previous.settings.url == settings.url {
            health = previous.health
        } else {
            previous?.health.retire()
            health = DiscoveryHealth(source: settings.url, registry: telemetry.registry)
        }
        let discoverer = ContextForgeDiscoverer(settings: settings, client: HTTPClient.shared, defaults: defaults)
        let logger = self.logger
        state.withLock { s in
            guard !s.stopping else { return }
            s.discoveryGeneration += 1
            let generation = s.discoveryGeneration
            let loop = DiscoveryLoop(discoverer: discoverer, staticTargets: [], log: { logger.notice("\($0)") },
                                     warn: { logger.warning("\($0)") }, health: health) { [weak self] specs in
                await self?.discovered(specs, generation: generation)
            }
            let delivered = s.discoveredTargets.isEmpty ? nil : s.discoveredTargets
            s.discovery = DiscoveryRun(settings: settings, health: health,
                                       task: Task { await loop.run(after: delivered) }, generation: generation)
        }
    }

    /// Each good list replaces the discovered targets (static ones win on a name clash).
    private func discovered(_ specs: [TargetSpec], generation: Int) async {
        let current = state.withLock { s in
            guard s.discovery?.generation == generation else { return false }
            s.discoveredTargets = specs
            return true
        }
        if current { await applyTargets() }
    }

    private func adminRoutes() -> AdminRoutes {
        let book = self.book
        let telemetry = self.telemetry
        let heartbeat = scheduler.heartbeat
        return AdminRoutes(
            health: { heartbeat.isAlive() },
            readiness: { book.readiness() },
            metrics: { PrometheusText.render(telemetry.snapshot()) },
            status: { [self] in book.statusJSON(discovery: state.withLock { $0.discovery?.health }, spool: telemetry.spool) },
            pages: StatusPages(
                page: { [weak self] in
                    let settings = self?.state.withLock { StatusPageSettings(admin: $0.config.admin, discovery: $0.config.discovery) }
                    return StatusPage(entries: book.entries, settings: settings ?? StatusPageSettings())
                },
                statusWithHistory: { [weak self] history in
                    book.statusJSON(discovery: self?.state.withLock { $0.discovery?.health }, spool: telemetry.spool, history: history)
                }),
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
