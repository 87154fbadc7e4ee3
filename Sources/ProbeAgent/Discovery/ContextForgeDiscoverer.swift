import Foundation
import HTTPClient
import ProbeLogic

/// Lists the MCP servers registered in a ContextForge gateway (`GET /gateways`) as targets.
struct ContextForgeDiscoverer: Sendable {
    let settings: ContextForgeDiscovery
    let client: HTTPClient
    /// Schedule and thresholds of every discovered target (the config's `defaults:`).
    let defaults: TargetDefaults
    var timeout: Duration = .seconds(10)
    static let maxResponseBytes = 8 << 20
    /// Bounds a server that keeps handing out cursors.
    static let maxPages = 200

    init(settings: ContextForgeDiscovery, client: HTTPClient, defaults: TargetDefaults) {
        self.settings = settings
        self.client = client
        self.defaults = defaults
    }

    func fetch() async throws(DiscoveryError) -> [TargetSpec] {
        ContextForgeMapping.targetSpecs(try await fetchGateways(), includeInactive: settings.includeInactive, defaults: defaults)
    }

    func fetchGateways() async throws(DiscoveryError) -> [ContextForgeGateway] {
        var gateways: [ContextForgeGateway] = []
        var cursor: String?
        var seen: Set<String> = []
        for _ in 0..<Self.maxPages {
            let page = try await fetchPage(cursor: cursor)
            gateways += page.gateways
            guard let next = page.nextCursor, !next.isEmpty else { return gateways }
            guard seen.insert(next).inserted else { throw failure("the gateway repeated a pagination cursor") }
            cursor = next
        }
        throw failure("more than \(Self.maxPages) pages of gateways")
    }

    /// `include_pagination=true`: without it ContextForge answers a bare array cut at its default
    /// page size (50) with no cursor to go on. Versions that predate pagination ignore it.
    func pageURL(cursor: String?) -> String {
        var base = settings.url
        while base.hasSuffix("/") { base.removeLast() }
        var url = base + "/gateways?include_inactive=\(settings.includeInactive)&include_pagination=true"
        if let cursor { url += "&cursor=" + Self.percentEncoded(cursor) }
        return url
    }

    private func fetchPage(cursor: String?) async throws(DiscoveryError) -> GatewayPage {
        var request = HTTPRequest(url: pageURL(cursor: cursor), timeout: timeout)
        request.headers.add("Authorization", "Bearer \(settings.token.value)")
        request.headers.add("Accept", "application/json")
        request.maxResponseBodyBytes = Self.maxResponseBytes
        let response: HTTPResponse
        do {
            response = try await client.execute(request)
        } catch {
            switch error.kind {
            case .timeout: throw failure("no answer within \(timeout.configText)")
            case .responseTooLarge: throw failure("the gateway list is larger than \(Self.maxResponseBytes >> 20) MiB")
            default: throw failure(error.description)
            }
        }
        switch response.status {
        case 200...299:
            break
        case 401, 403:
            throw failure("HTTP \(response.status): the token was rejected (discovery.contextforge.token needs the gateways.read permission)")
        default:
            throw failure("HTTP \(response.status)\(detail(response.body).map { ": \($0)" } ?? "")")
        }
        do {
            return try JSONDecoder().decode(GatewayPage.self, from: Data(response.body))
        } catch {
            let type = response.headers["Content-Type"].map { " (Content-Type \($0))" } ?? ""
            throw failure("the answer is not a JSON gateway list\(type)")
        }
    }

    /// FastAPI's `{"detail": …}`, short, with the token cut out in case the server echoed it.
    private func detail(_ body: [UInt8]) -> String? {
        struct Detail: Decodable { var detail: String }
        guard let text = try? JSONDecoder().decode(Detail.self, from: Data(body)).detail else { return nil }
        return String(text.replacingOccurrences(of: settings.token.value, with: "<redacted>").prefix(200))
    }

    private func failure(_ reason: String) -> DiscoveryError {
        DiscoveryError(description: "ContextForge \(HTTPURL.redact(settings.url)): \(reason)")
    }

    static func percentEncoded(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

/// A discovery poll that failed; the message names the gateway, never the token.
struct DiscoveryError: Error, CustomStringConvertible, Equatable {
    var description: String
}

/// One answer of `GET /gateways`: a bare array, or `{"gateways": […], "nextCursor": …}`.
/// Entries that do not decode are skipped rather than failing the whole list.
struct GatewayPage: Decodable {
    var gateways: [ContextForgeGateway]
    var nextCursor: String?

    private enum CodingKeys: String, CodingKey { case gateways, items, nextCursor }

    private struct Lenient: Decodable {
        var gateway: ContextForgeGateway?
        init(from decoder: any Decoder) throws { gateway = try? ContextForgeGateway(from: decoder) }
    }

    init(from decoder: any Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var entries: [Lenient] = []
            while !list.isAtEnd { entries.append(try list.decode(Lenient.self)) }
            gateways = entries.compactMap(\.gateway)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let entries = try c.decodeIfPresent([Lenient].self, forKey: .gateways) ?? c.decode([Lenient].self, forKey: .items)
        gateways = entries.compactMap(\.gateway)
        nextCursor = try c.decodeIfPresent(String.self, forKey: .nextCursor)
    }
}
