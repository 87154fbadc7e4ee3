import HTTPClient
import ProbeLogic

/// The fields of ContextForge's `GatewayRead` (camelCase JSON) that discovery uses.
struct ContextForgeGateway: Decodable, Equatable, Sendable {
    var id: String
    var name: String
    var slug: String?
    var url: String
    /// "SSE" or "STREAMABLEHTTP".
    var transport: String?
    var enabled: Bool
    var reachable: Bool?
    /// basic | bearer | authheaders | oauth | query_param | null
    var authType: String?
    var oauthGrantType: String?

    init(id: String, name: String, slug: String? = nil, url: String, transport: String? = nil, enabled: Bool = true,
         reachable: Bool? = nil, authType: String? = nil, oauthGrantType: String? = nil) {
        self.id = id
        self.name = name
        self.slug = slug
        self.url = url
        self.transport = transport
        self.enabled = enabled
        self.reachable = reachable
        self.authType = authType
        self.oauthGrantType = oauthGrantType
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, slug, url, transport, enabled, reachable, authType, oauthConfig
    }

    private struct OAuthConfig: Decodable {
        var grantType: String?

        private enum CodingKeys: String, CodingKey { case snake = "grant_type", camel = "grantType" }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            grantType = (try? c.decodeIfPresent(String.self, forKey: .snake)) ?? (try? c.decodeIfPresent(String.self, forKey: .camel))
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Ids are strings (uuid hex) in ContextForge; accept a number too.
        if let number = try? c.decode(Int.self, forKey: .id) { id = String(number) } else { id = try c.decode(String.self, forKey: .id) }
        name = try c.decode(String.self, forKey: .name)
        slug = try c.decodeIfPresent(String.self, forKey: .slug)
        url = try c.decode(String.self, forKey: .url)
        transport = try c.decodeIfPresent(String.self, forKey: .transport)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
        reachable = try c.decodeIfPresent(Bool.self, forKey: .reachable)
        authType = try c.decodeIfPresent(String.self, forKey: .authType)
        oauthGrantType = (try? c.decodeIfPresent(OAuthConfig.self, forKey: .oauthConfig))?.grantType
    }
}

/// Gateways → targets: a pure function, so the mapping is table-tested.
enum ContextForgeMapping {
    static let namePrefix = "contextforge-"
    /// The `source` label of every discovered target.
    static let sourceLabel = "contextforge"

    /// The gateways to probe (enabled ones, or all with `includeInactive`), sorted by name; names
    /// made unique with the gateway id; gateways without an http(s) URL left out.
    static func targetSpecs(_ gateways: [ContextForgeGateway], includeInactive: Bool, defaults: TargetDefaults) -> [TargetSpec] {
        var specs: [TargetSpec] = []
        var names: Set<String> = []
        for gateway in gateways where gateway.enabled || includeInactive {
            guard var spec = targetSpec(gateway, defaults: defaults) else { continue }
            if names.contains(spec.target.name) { spec.target.name += "-" + sanitized(gateway.id) }
            guard names.insert(spec.target.name).inserted else { continue }
            specs.append(spec)
        }
        return specs.sorted { $0.target.name < $1.target.name }
    }

    /// nil when the gateway's URL is not an http:// or https:// URL with a host.
    static func targetSpec(_ gateway: ContextForgeGateway, defaults: TargetDefaults) -> TargetSpec? {
        guard HTTPURL(gateway.url) != nil else { return nil }
        let target = Target(name: targetName(gateway), url: gateway.url,
                            kind: .mcp(MCPOptions(transport: transport(gateway.transport))),
                            timeout: defaults.probeTimeout, auth: auth(gateway), policy: defaults.policy,
                            labels: ["source": sourceLabel, "gateway_id": gateway.id])
        return TargetSpec(target: target, interval: defaults.interval, failingInterval: defaults.failingInterval)
    }

    static func targetName(_ gateway: ContextForgeGateway) -> String {
        let base = [gateway.slug, gateway.name, gateway.id].lazy.compactMap { $0.map(sanitized) }.first { !$0.isEmpty }
        return namePrefix + (base ?? "gateway")
    }

    static func transport(_ text: String?) -> MCPTransport {
        switch text?.uppercased() {
        case "SSE": .sse
        case "STREAMABLEHTTP": .streamableHTTP
        default: .auto
        }
    }

    /// The gateway masks stored secrets, so none can be reused: an authorization_code gateway is
    /// probed as unauthenticated liveness (no stored token), every other one anonymously, where a
    /// 401 still proves liveness.
    static func auth(_ gateway: ContextForgeGateway) -> AuthConfig {
        gateway.authType?.lowercased() == "oauth" && gateway.oauthGrantType == "authorization_code"
            ? .authorizationCode(StoredToken()) : .none
    }

    /// Characters outside `[A-Za-z0-9._-]` become `-`.
    static func sanitized(_ text: String) -> String {
        String(text.map { TargetDecoder.isNameCharacter($0) ? $0 : "-" })
    }
}
