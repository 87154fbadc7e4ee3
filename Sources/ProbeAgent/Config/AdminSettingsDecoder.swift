/// The status page's and the admin endpoints' access fields of `admin:` (`AgentConfigDecoder.decodeAdmin`).
enum AdminSettingsDecoder {
    static let traceIDPlaceholder = "{trace_id}"

    /// An http(s) URL template with `{trace_id}` in it.
    static func traceURL(_ node: ConfigNode) -> String? {
        guard let text = node.text() else { return nil }
        guard text.contains(traceIDPlaceholder) else {
            return node.fail("has no {trace_id} (expected a URL template, e.g. http://127.0.0.1:16686/trace/{trace_id})")
        }
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://"),
              !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
            return node.fail("is not an http:// or https:// URL template without spaces (percent-encode them as %20)")
        }
        return text
    }

    /// `name: bcrypt hash` pairs, as Prometheus' exporter-toolkit web config has them.
    static func users(_ node: ConfigNode) -> [String: String] {
        guard let entries = node.entries() else { return [:] }
        var users: [String: String] = [:]
        for (name, value) in entries {
            guard let hash = value.text() else { continue }
            if name.isEmpty || name.contains(":") || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                value.report("\(name.debugDescription) is not a user name (no colon or control characters)")
            } else if !BcryptHash.isWellFormed(hash) {
                // The value is a hash, but a plain password pasted here would be a secret: never echoed.
                value.report("is not a bcrypt hash (expected $2a$, $2b$ or $2y$, a cost and 53 characters: "
                             + "htpasswd -nbBC 10 USER PASSWORD, or python3 -c 'import bcrypt; print(bcrypt.hashpw(b\"PASSWORD\", bcrypt.gensalt()).decode())')")
            } else {
                users[name] = hash
            }
        }
        return users
    }

    static func tls(_ node: ConfigNode) -> AdminTLSSettings? {
        guard let fields = ConfigMapping(node, keys: ["cert_file", "key_file", "client_ca_file"]) else { return nil }
        let cert = fields.required("cert_file", "the server certificate chain, PEM")?.readablePath()
        let key = fields.required("key_file", "the server's private key, PEM")?.readablePath()
        let clientCA = fields["client_ca_file"]?.readablePath()
        guard let cert, let key else { return nil }
        return AdminTLSSettings(certFile: cert, keyFile: key, clientCAFile: clientCA)
    }
}
