import HTTPClient
import ProbeLogic

/// A target's `auth:` and `tls:` blocks.
enum AuthDecoder {
    /// The fields each auth type takes (besides `type`).
    static let fieldsByType: [(type: String, fields: [String])] = [
        ("none", []),
        ("bearer", ["token", "token_file"]),
        ("basic", ["username", "password", "password_file"]),
        ("client_credentials", ["token_url", "client_id", "client_secret", "client_secret_file", "scope", "resource",
                                "on_token_failure"]),
        ("authorization_code", ["token_file", "token_env", "token_url", "client_id", "client_secret", "client_secret_file",
                                "on_token_failure"]),
    ]
    static let allKeys = ["type", "token", "token_file", "token_env", "username", "password", "password_file",
                          "token_url", "client_id", "client_secret", "client_secret_file", "scope", "resource",
                          "on_token_failure"]

    /// The static types: credentials given in the config, no token endpoint.
    static let staticTypes = ["none", "bearer", "basic"]

    /// `types`: the auth types this place takes (default: every one).
    static func decode(_ node: ConfigNode, types: [String] = fieldsByType.map(\.type)) -> AuthConfig {
        guard let fields = ConfigMapping(node, keys: allKeys),
              let type = fields.required("type", types.joined(separator: ", "))?.choice(types),
              let allowed = fieldsByType.first(where: { $0.type == type })?.fields else { return .none }
        for key in allKeys.dropFirst() where fields.has(key) && !allowed.contains(key) {
            let takes = allowed.isEmpty ? "no other fields" : allowed.joined(separator: ", ")
            fields.field(key).report("does not apply to auth type \(type) (it takes \(takes))")
        }
        switch type {
        case "bearer":
            let token = SecretSource.decode(fields, value: "token", file: "token_file", purpose: "the bearer token")
            return .bearer(token: token ?? Secret(""))
        case "basic":
            let username = fields.required("username", "the user name")?.text()
            let password = SecretSource.decode(fields, value: "password", file: "password_file", purpose: "the password")
            return .basic(username: username ?? "", password: password ?? Secret(""))
        case "client_credentials":
            let tokenURL = fields.required("token_url", "the OAuth token endpoint URL")?.httpURL()
            let clientID = fields.required("client_id", "the OAuth client id")?.nonEmptyText("the OAuth client id")
            let secret = SecretSource.decode(fields, value: "client_secret", file: "client_secret_file", purpose: "the OAuth client secret")
            return .clientCredentials(ClientCredentials(
                tokenURL: tokenURL ?? "", clientID: clientID ?? "", clientSecret: secret ?? Secret(""),
                scope: fields["scope"]?.text(), resource: fields["resource"]?.httpURL(),
                onTokenFailure: onTokenFailure(fields)))
        case "authorization_code":
            return .authorizationCode(decodeStoredToken(fields))
        default:
            return .none
        }
    }

    /// The token file is the refresh flow's store: it may not exist yet (then the probe runs as
    /// unauthenticated liveness), so it is not read here. The same goes for an unset `token_env`.
    static func decodeStoredToken(_ fields: ConfigMapping) -> StoredToken {
        var stored = StoredToken(tokenFile: fields["token_file"]?.filePath(), onTokenFailure: onTokenFailure(fields))
        if let env = fields["token_env"], let name = env.text() {
            if EnvInterpolation.isVariableName(name) { stored.tokenEnv = name }
            else { env.report("\"\(name)\" is not an environment variable name (expected letters, digits, _)") }
        }
        if !fields.has("token_file"), !fields.has("token_env") {
            fields.owner.context.report("required field is missing (expected token_file and/or token_env: where the access token is kept)",
                                        path: ConfigNode.join(fields.owner.path, "token_file"), at: fields.owner.mark)
        }
        let refreshKeys = ["token_url", "client_id", "client_secret", "client_secret_file"]
        guard refreshKeys.contains(where: fields.has) else { return stored }
        stored.tokenURL = fields.required("token_url", "the OAuth token endpoint URL, needed for refresh")?.httpURL()
        stored.clientID = fields.required("client_id", "the OAuth client id, needed for refresh")?.nonEmptyText("the OAuth client id")
        if fields.has("client_secret"), let file = fields["client_secret_file"] {
            file.report("give client_secret or client_secret_file, not both")
        } else {
            stored.clientSecret = fields["client_secret"]?.secret() ?? fields["client_secret_file"]?.fileSecret()
        }
        return stored
    }

    /// `on_token_failure: degraded | liveness` (default degraded).
    static func onTokenFailure(_ fields: ConfigMapping) -> TokenFailurePolicy {
        fields["on_token_failure"]?.choice(TokenFailurePolicy.self) ?? .degraded
    }

    static func decodeTLS(_ node: ConfigNode) -> TLSOptions {
        var tls = TLSOptions()
        guard let fields = ConfigMapping(node, keys: ["ca_file", "cert_file", "key_file", "insecure_skip_verify"]) else { return tls }
        tls.caFile = fields["ca_file"]?.readablePath()
        tls.clientCertFile = fields["cert_file"]?.readablePath()
        tls.clientKeyFile = fields["key_file"]?.readablePath()
        switch (fields.has("cert_file"), fields.has("key_file")) {
        case (true, false): fields.field("cert_file").report("needs key_file too (a client certificate is used with its key)")
        case (false, true): fields.field("key_file").report("needs cert_file too (a client key is used with its certificate)")
        default: break
        }
        if let skip = fields["insecure_skip_verify"]?.bool() { tls.verifyPeer = !skip }
        return tls
    }
}

/// `restart_detection:` entries, with a warning for a signal that can never fire or that another
/// one shadows.
enum RestartSignalDecoder {
    static func decodeAll(_ node: ConfigNode, target: Target) -> [RestartSignal] {
        var firstReader: [[String]: (index: Int, line: Int?)] = [:]
        var documentAuth: [String: (auth: AuthConfig?, index: Int)] = [:]
        var signals: [RestartSignal] = []
        for (index, element) in (node.list() ?? []).enumerated() {
            guard let (signal, read) = decode(element, target: target) else { continue }
            let (source, what) = reads(signal)
            if let first = firstReader[source] {
                let line = first.line.map { " (line \($0))" } ?? ""
                read.warn("reads the same \(what) as restart_detection[\(first.index)]\(line), which it shadows; keep one")
            } else {
                firstReader[source] = (index, read.mark?.line)
            }
            // One document is fetched once per probe, so with one set of credentials.
            if let document = RestartMarks.documentSources([signal]).first {
                if let first = documentAuth[document.url] {
                    if first.auth != document.auth {
                        read.report("reads the same url as restart_detection[\(first.index)] with other auth; give both the same auth")
                    }
                } else {
                    documentAuth[document.url] = (document.auth, index)
                }
            }
            signals.append(signal)
        }
        return signals
    }

    /// The signal, and the node naming what it reads (its header or JSON field).
    static func decode(_ node: ConfigNode, target: Target) -> (RestartSignal, read: ConfigNode)? {
        guard let fields = ConfigMapping(node, keys: ["header", "json_field", "url", "mode", "auth"]) else { return nil }
        let mode = fields["mode"]?.choice(["changes", "decreases"])
        switch (fields["header"], fields["json_field"]) {
        case (let header?, nil):
            for key in ["url", "mode", "auth"] where fields.has(key) { fields.field(key).report("applies only to json_field signals") }
            guard let name = header.text() else { return nil }
            guard !name.isEmpty, name.allSatisfy(HeaderDecoder.isTokenCharacter) else {
                return header.fail("\"\(name)\" is not an HTTP header name")
            }
            return (.headerChanges(name: name), header)
        case (nil, let field?):
            let url = fields["url"]?.httpURL()
            guard let path = field.nonEmptyText("a dotted JSON path, e.g. uptime_seconds or runtime.pod_id") else { return nil }
            if !fields.has("url"), case .http(let check) = target.kind, check.method == "HEAD" {
                field.warn("never fires: a HEAD request gets no body (give url: to read another document, or use a header)")
            }
            let auth = fields["auth"].map { AuthDecoder.decode($0, types: AuthDecoder.staticTypes) }
            if fields.has("auth"), !fields.has("url") {
                fields.field("auth").report("applies only with url: (the probe's own answer is read with the target's auth)")
            }
            if let url, url == target.url, auth == nil {
                fields.field("url").warn("is the target's own url: leave it out, so the probe's own answer is read without a second request")
            }
            return (mode == "decreases" ? .jsonFieldDecreases(url: url, path: path, auth: auth)
                                        : .jsonFieldChanges(url: url, path: path, auth: auth), field)
        case (_?, _?):
            return fields.field("json_field").fail("give header or json_field, not both")
        case (nil, nil):
            return node.fail("expected header: NAME or json_field: PATH")
        }
    }

    /// What a signal reads (header names compare case-insensitively), and how to name that.
    static func reads(_ signal: RestartSignal) -> (source: [String], what: String) {
        switch signal {
        case .headerChanges(let name): (["header", name.lowercased()], "header")
        case .jsonFieldChanges(let url, let path, _), .jsonFieldDecreases(let url, let path, _): (["json_field", path, url ?? ""], "JSON field")
        }
    }
}
