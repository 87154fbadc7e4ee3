/// What a reload changes, section by section, for its log line: names and counts only, never a
/// value (values may be secrets).
struct ConfigChanges {
    /// Changed sections in file order, each possibly with a note (`log_level (--log-level wins)`).
    private(set) var sections: [String] = []

    /// `ownedBefore`/`ownedAfter`: the configured targets this replica owns (its shard's share).
    init(from old: AgentConfig, to new: AgentConfig, ownedBefore: [TargetSpec], ownedAfter: [TargetSpec],
         shardApplied: Bool, logLevelApplied: Bool) {
        func note(_ section: String, _ changed: Bool, _ note: String? = nil) {
            guard changed else { return }
            sections.append(note.map { "\(section) (\($0))" } ?? section)
        }
        note("admin.listen", old.admin.listen != new.admin.listen)
        note("admin.tls", old.admin.tls != new.admin.tls)
        note("admin.history, group_by, trace_url, basic_auth_users",
             old.admin.history != new.admin.history || old.admin.groupBy != new.admin.groupBy
                 || old.admin.traceURL != new.admin.traceURL || old.admin.basicAuthUsers != new.admin.basicAuthUsers)
        note("log_level", old.logLevel != new.logLevel, logLevelApplied ? nil : "--log-level wins")
        note("shard", old.shard != new.shard, shardApplied ? nil : "--shard or PROBE_AGENT_SHARD wins")
        note("defaults", old.defaults != new.defaults)
        note("scheduler.max_concurrency", old.scheduler != new.scheduler)
        note("shutdown", old.shutdown != new.shutdown)
        note("exporter", old.exporter != new.exporter)
        note("discovery", old.discovery != new.discovery)
        let before = Dictionary(ownedBefore.map { ($0.target.name, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(ownedAfter.map { ($0.target.name, $0) }, uniquingKeysWith: { first, _ in first })
        let added = after.keys.count { before[$0] == nil }
        let removed = before.keys.count { after[$0] == nil }
        let changed = after.count { name, spec in before[name].map { $0 != spec } ?? false }
        note("targets", added + removed + changed > 0, "+\(added) -\(removed) ~\(changed)")
    }

    /// Replaces `section`'s entry by one saying why it did not apply.
    mutating func failed(_ section: String, _ why: String) {
        sections = sections.map { $0 == section || $0.hasPrefix(section + " (") ? "\(section) (not applied: \(why))" : $0 }
    }

    var summary: String { sections.isEmpty ? "no changes" : "changed " + sections.joined(separator: ", ") }
}
