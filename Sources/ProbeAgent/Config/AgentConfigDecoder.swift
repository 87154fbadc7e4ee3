import HTTPClient
import OTLPExporter
import ProbeLogic

/// Maps the top level of the file to `AgentConfig`; targets are decoded by `TargetDecoder`.
enum AgentConfigDecoder {
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    static func decode(_ root: ConfigNode) -> AgentConfig? {
        guard let top = ConfigMapping(root, keys: ["admin", "log_level", "shard", "defaults", "scheduler",
                                                   "shutdown", "exporter", "targets", "discovery"]) else { return nil }
        let defaults = top["defaults"].map(TargetDefaults.decode) ?? TargetDefaults()
        let targets = top["targets"].map { TargetDecoder.decodeAll($0, defaults: defaults) } ?? []
        let discovery = top["discovery"].flatMap(decodeDiscovery)
        if targets.isEmpty, !top.has("discovery"), top["targets"].map({ $0.node.sequence?.isEmpty == true }) ?? true {
            top.owner.context.report("no targets (expected a list of targets, or discovery.contextforge)",
                                     path: "targets", at: top["targets"]?.mark ?? root.mark)
        }
        return AgentConfig(
            admin: top["admin"].map(decodeAdmin) ?? AdminSettings(),
            logLevel: top["log_level"]?.choice(logLevels) ?? "info",
            shard: top["shard"].flatMap(decodeShard),
            defaults: defaults,
            scheduler: top["scheduler"].map(decodeScheduler) ?? SchedulerSettings(),
            shutdown: top["shutdown"].map(decodeShutdown) ?? ShutdownSettings(),
            exporter: top["exporter"].map(decodeExporter),
            targets: targets,
            discovery: discovery)
    }

    static func decodeAdmin(_ node: ConfigNode) -> AdminSettings {
        var admin = AdminSettings()
        guard let fields = ConfigMapping(node, keys: ["listen", "history", "group_by", "trace_url", "basic_auth_users", "tls"])
        else { return admin }
        if let listen = fields["listen"], let text = listen.text() {
            let port = text.split(separator: ":").last ?? ""
            if let address = ListenAddress(text) { admin.listen = address }
            else if !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }), (Int(port) ?? .max) > 65535 {
                listen.report("\"\(text)\": port \(port) is out of range (expected 0 to 65535)")
            } else { listen.report("\"\(text)\" is not host:port (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464)") }
        }
        if let history = fields["history"]?.int(in: 1...AdminSettings.maxHistory) { admin.history = history }
        admin.groupBy = fields["group_by"]?.nonEmptyText("a label name")
        admin.traceURL = fields["trace_url"].flatMap(AdminSettingsDecoder.traceURL)
        admin.basicAuthUsers = fields["basic_auth_users"].map(AdminSettingsDecoder.users) ?? [:]
        admin.tls = fields["tls"].flatMap(AdminSettingsDecoder.tls)
        return admin
    }

    static func decodeShard(_ node: ConfigNode) -> Shard? {
        guard let text = node.text() else { return nil }
        return Shard.parse(text) ?? node.fail("\"\(text)\" is not a shard (expected \(Shard.expected))")
    }

    static func decodeScheduler(_ node: ConfigNode) -> SchedulerSettings {
        var scheduler = SchedulerSettings()
        guard let fields = ConfigMapping(node, keys: ["max_concurrency"]) else { return scheduler }
        if let value = fields["max_concurrency"]?.int(in: 1...10_000) { scheduler.maxConcurrency = value }
        return scheduler
    }

    static func decodeShutdown(_ node: ConfigNode) -> ShutdownSettings {
        var shutdown = ShutdownSettings()
        guard let fields = ConfigMapping(node, keys: ["drain_timeout", "flush_timeout"]) else { return shutdown }
        if let value = fields["drain_timeout"]?.duration() { shutdown.drainTimeout = value }
        if let value = fields["flush_timeout"]?.duration() { shutdown.flushTimeout = value }
        return shutdown
    }

    static func decodeExporter(_ node: ConfigNode) -> ExporterSettings {
        var exporter = ExporterSettings()
        guard let fields = ConfigMapping(node, keys: ["endpoint", "protocol", "compression", "timeout", "headers",
                                                      "file", "console", "sampling", "spool"]) else { return exporter }
        exporter.endpoint = fields["endpoint"]?.httpURL()
        exporter.protocol = fields["protocol"]?.choice(["http/protobuf", "http/json"]).flatMap(OTLPProtocol.init(rawValue:))
        exporter.compression = fields["compression"]?.choice(["gzip", "none"]).flatMap(OTLPCompression.init(rawValue:))
        exporter.timeout = fields["timeout"]?.duration()
        for (name, value) in HeaderDecoder.decode(fields["headers"]) { exporter.headers[name] = value }
        exporter.file = fields["file"]?.filePath()
        exporter.console = fields["console"]?.bool() ?? false
        exporter.sampling = fields["sampling"].map(decodeSampling)
        exporter.spool = fields["spool"].flatMap(SpoolSettings.decode)
        return exporter
    }

    static func decodeSampling(_ node: ConfigNode) -> SamplingSettings {
        guard let fields = ConfigMapping(node, keys: ["mode", "ratio"]) else { return .alwaysOn }
        let mode = fields.required("mode", "always_on, ratio or failure_biased")?.choice(["always_on", "ratio", "failure_biased"])
        var ratio: Double?
        if let node = fields["ratio"], let text = node.text() {
            if let value = Double(text), (0...1).contains(value) { ratio = value }
            else { node.report("\"\(text)\" is not a ratio (expected a number from 0 to 1, e.g. 0.1)") }
        }
        switch mode {
        case "ratio":
            if ratio == nil, !fields.has("ratio") { fields.field("ratio").report("required for mode ratio (expected a number from 0 to 1)") }
            return .ratio(ratio ?? 1)
        case "failure_biased":
            return .failureBiased(ratio: ratio ?? 0.1)
        default:
            if mode == "always_on", fields.has("ratio") { fields.field("ratio").report("applies only to modes ratio and failure_biased") }
            return .alwaysOn
        }
    }

    static func decodeDiscovery(_ node: ConfigNode) -> ContextForgeDiscovery? {
        guard let fields = ConfigMapping(node, keys: ["contextforge"]),
              let gateway = fields.required("contextforge", "a mapping with url and token"),
              let settings = ConfigMapping(gateway, keys: ["url", "token", "token_file", "interval", "include_inactive"])
        else { return nil }
        let url = settings.required("url", "the gateway's http(s) base URL")?.httpURL()
        let token = SecretSource.decode(settings, value: "token", file: "token_file", purpose: "a JWT with gateways.read")
        var discovery = ContextForgeDiscovery(url: url ?? "", token: token ?? Secret(""))
        if let interval = settings["interval"]?.duration() { discovery.interval = interval }
        if let inactive = settings["include_inactive"]?.bool() { discovery.includeInactive = inactive }
        return discovery
    }
}

/// `headers:` mappings (targets and exporter), and the rules for a header the user gives.
enum HeaderDecoder {
    static func decode(_ node: ConfigNode?) -> [(name: String, value: Secret)] {
        guard let node, let entries = node.entries() else { return [] }
        return entries.compactMap { name, value in
            guard let text = value.text() else { return nil }
            if let problem = problem(name: name, value: text) { return value.fail(problem) }
            return (name, Secret(text))
        }
    }

    static let valueProblem = "must not contain line breaks or other control characters"

    /// Why `name: value` cannot be sent (config `headers:`, `check --header`), or nil. The value
    /// may be a secret and is never quoted.
    static func problem(name: String, value: String) -> String? {
        guard !name.isEmpty, name.allSatisfy(isTokenCharacter) else { return "\(name.debugDescription) is not an HTTP header name" }
        return HTTPHeader.isFieldValue(value) ? nil : valueProblem
    }

    static func isTokenCharacter(_ c: Character) -> Bool {
        guard let a = c.asciiValue, a > 32, a < 127 else { return false }
        return !"()<>@,;:\\\"/[]?={}".contains(c)
    }
}

/// A secret given inline or read from a file: exactly one of the two fields.
enum SecretSource {
    static func decode(_ fields: ConfigMapping, value: String, file: String, purpose: String) -> Secret? {
        switch (fields[value], fields[file]) {
        case (let inline?, nil): return inline.secret()
        case (nil, let path?): return path.fileSecret()
        case (_?, let path?): return path.fail("give \(value) or \(file), not both")
        case (nil, nil):
            fields.owner.context.report("required field is missing (expected \(value) or \(file): \(purpose))",
                                        path: ConfigNode.join(fields.owner.path, value), at: fields.owner.mark)
            return nil
        }
    }
}
