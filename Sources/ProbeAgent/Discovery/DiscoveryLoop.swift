/// Polls a target source every `interval` and hands the configured targets plus the discovered
/// ones to `update` whenever that list changes. A failed poll delivers nothing, so the consumer
/// keeps the last good list; only when no poll has succeeded yet are the configured targets
/// delivered alone, so the consumer always hears once.
struct DiscoveryLoop: Sendable {
    var interval: Duration
    var staticTargets: [TargetSpec]
    var source: @Sendable () async throws -> [TargetSpec]
    var log: @Sendable (String) -> Void
    /// Failures and the recovery after them.
    var warn: @Sendable (String) -> Void
    var health: DiscoveryHealth?
    var update: @Sendable ([TargetSpec]) async -> Void

    init(interval: Duration, staticTargets: [TargetSpec], source: @escaping @Sendable () async throws -> [TargetSpec],
         log: @escaping @Sendable (String) -> Void, warn: @escaping @Sendable (String) -> Void = { _ in },
         health: DiscoveryHealth? = nil, update: @escaping @Sendable ([TargetSpec]) async -> Void) {
        self.interval = interval
        self.staticTargets = staticTargets
        self.source = source
        self.log = log
        self.warn = warn
        self.health = health
        self.update = update
    }

    init(discoverer: ContextForgeDiscoverer, staticTargets: [TargetSpec], log: @escaping @Sendable (String) -> Void,
         warn: @escaping @Sendable (String) -> Void, health: DiscoveryHealth?,
         update: @escaping @Sendable ([TargetSpec]) async -> Void) {
        self.init(interval: discoverer.settings.interval, staticTargets: staticTargets,
                  source: { try await discoverer.fetch() }, log: log, warn: warn, health: health, update: update)
    }

    /// Polls at once, then every `interval`, until the task is cancelled. `delivered`: the list
    /// the consumer has from an earlier loop (a reload's restart), kept while polls fail.
    func run(after delivered: [TargetSpec]? = nil) async {
        var delivered = delivered
        while !Task.isCancelled {
            delivered = await poll(after: delivered)
            try? await Task.sleep(for: interval)
        }
    }

    /// One poll; returns the list the consumer now has.
    func poll(after delivered: [TargetSpec]?) async -> [TargetSpec]? {
        let discovered: [TargetSpec]
        do {
            discovered = try await source()
        } catch {
            guard !Task.isCancelled else { return delivered }
            health?.failed(error)
            if let delivered {
                warn("discovery failed, keeping the last good list (\(delivered.count) targets): \(error)")
                return delivered
            }
            warn("discovery failed, probing the configured targets only: \(error)")
            await update(staticTargets)
            return staticTargets
        }
        if health?.succeeded(found: discovered.count) == true { warn("discovery recovered: \(discovered.count) targets found") }
        let (merged, clashes) = Self.merge(staticTargets, discovered)
        guard merged != delivered else { return delivered }
        if !clashes.isEmpty {
            log("discovery: skipped \(clashes.joined(separator: ", ")): a configured target has the same name")
        }
        log("discovery: \(discovered.count - clashes.count) discovered targets, \(merged.count) in total")
        await update(merged)
        return merged
    }

    /// Configured targets first; a discovered target never replaces a configured one of the same name.
    static func merge(_ configured: [TargetSpec], _ discovered: [TargetSpec]) -> (targets: [TargetSpec], clashes: [String]) {
        let names = Set(configured.map(\.target.name))
        let clashes = discovered.map(\.target.name).filter(names.contains)
        return (configured + discovered.filter { !names.contains($0.target.name) }, clashes)
    }
}
