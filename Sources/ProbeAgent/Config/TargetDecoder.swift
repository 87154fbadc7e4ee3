import HTTPClient
import ProbeLogic

/// Maps each entry of `targets:` to a `TargetSpec`.
enum TargetDecoder {
    static let keys = ["name", "url", "kind", "transport"] + TargetDefaults.keys
        + ["labels", "headers", "auth", "tls", "mcp", "http", "restart_detection"]

    static func decodeAll(_ node: ConfigNode, defaults: TargetDefaults) -> [TargetSpec] {
        var firstByName: [String: ConfigNode] = [:]
        var specs: [TargetSpec] = []
        for element in node.list() ?? [] {
            guard let (spec, nameNode) = decode(element, defaults: defaults) else { continue }
            if let nameNode, let first = firstByName[spec.target.name] {
                let line = first.mark.map { " at line \($0.line)" } ?? ""
                nameNode.report("duplicate target name \"\(spec.target.name)\" (already used by \(first.path)\(line))")
            } else if nameNode != nil {
                firstByName[spec.target.name] = element
            }
            specs.append(spec)
        }
        return specs
    }

    static func decode(_ node: ConfigNode, defaults: TargetDefaults) -> (TargetSpec, name: ConfigNode?)? {
        guard let fields = ConfigMapping(node, keys: keys) else { return nil }
        let nameNode = fields.required("name", "a unique name of letters, digits, '.', '_', '-'")
        var name = nameNode?.text()
        if let text = name, text.isEmpty || !text.allSatisfy(isNameCharacter) {
            nameNode?.report("\"\(text)\" is not a valid name (expected letters, digits, '.', '_', '-')")
            name = nil
        }
        let url = fields.required("url", "an http:// or https:// URL")?.httpURL()
        let kindName = fields["kind"]?.choice(["mcp", "http"]) ?? (fields.has("kind") ? nil : "mcp")
        let schedule = defaults.overlaid(with: fields, inherited: true)

        var kind = Target.Kind.mcp(MCPOptions())
        switch kindName {
        case "mcp":
            var options = fields["mcp"].map(KindOptionsDecoder.decodeMCP) ?? MCPOptions()
            if let transport = fields["transport"]?.choice(MCPTransport.self) { options.transport = transport }
            if fields.has("http") { fields.field("http").report("applies only to kind http (this target is kind mcp)") }
            kind = .mcp(options)
        case "http":
            kind = .http(fields["http"].map(KindOptionsDecoder.decodeHTTP) ?? HTTPCheck())
            for key in ["mcp", "transport"] where fields.has(key) {
                fields.field(key).report("applies only to kind mcp (this target is kind http)")
            }
        default:
            break  // the kind itself was reported
        }

        var target = Target(
            name: name ?? "", url: url ?? "", kind: kind, timeout: schedule.probeTimeout,
            headers: HeaderDecoder.decode(fields["headers"]).map { HTTPHeader($0.name, $0.value.value) },
            auth: fields["auth"].map { AuthDecoder.decode($0) } ?? .none,
            tls: fields["tls"].map(AuthDecoder.decodeTLS) ?? TLSOptions(), policy: schedule.policy,
            labels: fields["labels"].map(decodeLabels) ?? [:])
        // Signals are checked against the target they watch (validate's warnings).
        target.restartSignals = fields["restart_detection"].map { RestartSignalDecoder.decodeAll($0, target: target) } ?? []
        let spec = TargetSpec(target: target, interval: schedule.interval, failingInterval: schedule.failingInterval)
        return (spec, name == nil ? nil : nameNode)
    }

    static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-")
    }

    static let maxLabels = 32

    /// Label names follow Prometheus' rules and leave the agent's own labels alone, since labels
    /// end up on `/metrics` too.
    static func decodeLabels(_ node: ConfigNode) -> [String: String] {
        let entries = node.textEntries()
        // Labels are set first on the root span (`probe.label.*`); bounded, they cannot crowd the
        // probe's own attributes out of the span's attribute limit (128 by default).
        guard entries.count <= maxLabels else {
            node.report("too many labels (\(entries.count); at most \(maxLabels) per target)")
            return [:]
        }
        var labels: [String: String] = [:]
        for (key, value, entry) in entries {
            let valid = key.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
                && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } && !key.hasPrefix("__")
            if !valid {
                entry.report("\"\(key)\" is not a label name (expected letters, digits and _, not starting with a digit or __)")
            } else if PrometheusNames.reservedTargetLabels.contains(PrometheusNames.labelName(key)) {
                entry.report("\"\(key)\" is reserved: the agent, Prometheus or the collector already put this label on the "
                             + "target's series (reserved: \(PrometheusNames.reservedTargetLabels.joined(separator: ", ")))")
            } else if !HTTPHeader.isFieldValue(value) {
                entry.report(HeaderDecoder.valueProblem)  // a CR would end the line on /metrics
            } else {
                labels[key] = value
            }
        }
        return labels
    }
}
