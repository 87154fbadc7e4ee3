import OTLPExporter

/// `exporter.spool`: where export requests the collector cannot take now wait on disk. Fields
/// set here win over `PROBE_AGENT_SPOOL_*`; unset ones come from there or the defaults.
struct SpoolSettings: Equatable {
    var dir: String
    var maxBytes: Int?
    var fsync: SpoolFsync?

    static func decode(_ node: ConfigNode) -> SpoolSettings? {
        guard let fields = ConfigMapping(node, keys: ["dir", "max_bytes", "fsync"]) else { return nil }
        let dir = fields.required("dir", "a directory the agent may write, e.g. /var/lib/probe-agent/spool")?.filePath()
        var spool = SpoolSettings(dir: dir ?? "")
        if let node = fields["max_bytes"], let text = node.text() {
            if let bytes = ByteSize.parse(text), bytes >= SpoolConfig.minimumMaxBytes { spool.maxBytes = bytes }
            else { node.report("\"\(text)\" is not a size of at least 64KiB (expected bytes or e.g. 256MiB, 1GiB, 500MB)") }
        }
        spool.fsync = fields["fsync"]?.choice(SpoolFsync.self)
        return dir == nil ? nil : spool
    }

    /// The spool to open, if any: the file's `exporter.spool` over `PROBE_AGENT_SPOOL_*`.
    static func resolve(_ settings: SpoolSettings?, environment: [String: String]) -> (SpoolConfig?, warnings: [String]) {
        let (fromEnvironment, warnings) = SpoolConfig.fromEnvironment(environment)
        guard let settings else { return (fromEnvironment, warnings) }
        var config = SpoolConfig(directory: settings.dir)
        config.maxBytes = settings.maxBytes ?? fromEnvironment?.maxBytes ?? config.maxBytes
        config.fsync = settings.fsync ?? fromEnvironment?.fsync ?? config.fsync
        return (config, warnings)
    }
}
