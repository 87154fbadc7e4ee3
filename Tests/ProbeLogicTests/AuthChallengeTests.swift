import Foundation
import Synchronization
import HTTPClient
import ProbeLogic
import TestSupport
import Tracing
import XCTest

final class AuthChallengeTests: XCTestCase {
    let tracing = AuthTracing()

    /// POSTs to the URL without credentials (with `token` when given) and returns status and challenge.
    func unauthorized(_ url: String, token: String? = nil) async throws -> (Int, String?) {
        var request = HTTPRequest(method: "POST", url: url, body: Array(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.utf8))
        request.headers.add("Content-Type", "application/json")
        request.headers.add("Accept", "application/json, text/event-stream")
        if let token { request.headers.add("Authorization", "Bearer \(token)") }
        let exchange = await tracing.http.send(request)
        let status = try XCTUnwrap(exchange.status, "\(String(describing: exchange.error))")
        let challenges = exchange.headers.values("www-authenticate")
        return (status, challenges.isEmpty ? nil : challenges.joined(separator: ", "))
    }

    func verify(_ header: String?, _ targetURL: String) async -> ChallengeVerdict {
        // A fresh cache remembers nothing: every call looks the metadata up.
        await ChallengeVerdictCache().verify(wwwAuthenticate: header, targetURL: targetURL, http: tracing.http, timeout: .seconds(3))
    }

    func testRealMCPServerChallengeIsValid() async throws {
        let server = try mcpPeer("auth", self)
        let url = server.baseURL + "/mcp"
        for token in [nil, "bad-token", "weak-token"] {
            let (status, header) = try await unauthorized(url, token: token)
            XCTAssertEqual(status, token == "weak-token" ? 403 : 401)
            let verdict = await verify(header, url)
            XCTAssertEqual(verdict, ChallengeVerdict(.valid, "PRM ok: authorization_servers https://auth.example.com",
                                                     authorizationServers: ["https://auth.example.com"]), token ?? "no token")
        }
        // The PRM request is a CLIENT span of its own, sent without credentials.
        let spans = await tracing.spans()
        let prm = spans.filter { $0.attributes["url.full"]?.stringValue?.contains("/.well-known/oauth-protected-resource/mcp") == true }
        XCTAssertEqual(prm.count, 3)
        XCTAssertEqual(prm.first?.kind, .client)
        XCTAssertEqual(prm.first?.name, "GET")
        XCTAssertEqual(prm.first?.attributes["http.response.status_code"], .int(200))
        assertNoSecrets(["weak-token", "bad-token"], spans: spans)
    }

    func testMissingChallenge() async throws {
        let peer = try await OAuthPeer()
        let url = peer.server.baseURL + "/protected/mcp"
        let (status, header) = try await unauthorized(url)
        XCTAssertEqual(status, 401)
        let none = await verify(header, url)
        XCTAssertEqual(none, ChallengeVerdict(.missing, "no WWW-Authenticate header"))

        try await peer.configure(["www_authenticate": #"Basic realm="gateway""#])
        let (_, basic) = try await unauthorized(url)
        let notBearer = await verify(basic, url)
        XCTAssertEqual(notBearer, ChallengeVerdict(.missing, "no Bearer challenge (scheme Basic)"))
        let prm = try await peer.count("prm")
        XCTAssertEqual(prm, 0)
    }

    func testPRMVariants() async throws {
        let peer = try await OAuthPeer()
        let base = peer.server.baseURL
        let url = base + "/mcp"
        let good: [String: Any] = ["resource": "{base}/mcp", "authorization_servers": ["https://as.example.com"]]
        let prmPath = "/.well-known/oauth-protected-resource/mcp"
        let rootPath = "/.well-known/oauth-protected-resource"
        let withMetadata = #"Bearer error="invalid_token", resource_metadata="{base}/prm/mcp""#
        let cases: [(name: String, header: String, prm: [String: Any], status: ChallengeStatus, detail: String, fetches: Int)] = [
            ("resource_metadata", withMetadata, ["/prm/mcp": ["body": good]],
             .valid, "PRM ok: authorization_servers https://as.example.com", 1),
            ("trailing slash", withMetadata,
             ["/prm/mcp": ["body": ["resource": "{base}/mcp/", "authorization_servers": ["https://as.example.com"]]]],
             .invalid, "PRM resource mismatch (trailing slash): \(url)/ != \(url)", 1),
            ("other resource", withMetadata,
             ["/prm/mcp": ["body": ["resource": "https://elsewhere.example/mcp", "authorization_servers": ["https://as.example.com"]]]],
             .invalid, "PRM resource mismatch: https://elsewhere.example/mcp != \(url)", 1),
            ("no authorization_servers", withMetadata, ["/prm/mcp": ["body": ["resource": "{base}/mcp"]]],
             .invalid, "PRM has no authorization_servers", 1),
            ("not JSON", withMetadata, ["/prm/mcp": ["raw": "<html>"]], .invalid, "PRM is not a JSON object", 1),
            ("metadata 404", withMetadata, [:], .invalid, "PRM 404 at /prm/mcp", 1),
            ("metadata 500", withMetadata, ["/prm/mcp": ["status": 500, "body": good]], .invalid, "PRM 500 at /prm/mcp", 1),
            ("redirect", withMetadata, ["/prm/mcp": ["status": 302, "location": "{base}\(prmPath)"]],
             .invalid, "PRM redirect 302 (not followed) at /prm/mcp", 1),
            ("path-inserted well-known", #"Bearer error="invalid_token""#, [prmPath: ["body": good]],
             .valid, "PRM ok: authorization_servers https://as.example.com", 1),
            ("root well-known", "Bearer", [rootPath: ["body": good]],
             .valid, "PRM ok: authorization_servers https://as.example.com", 2),
            ("no PRM anywhere", "Bearer", [:], .invalid, "PRM 404 at \(prmPath); PRM 404 at \(rootPath)", 2),
            ("cross-origin metadata", #"Bearer resource_metadata="http://localhost:1/prm""#, ["/prm": ["body": good]],
             .invalid, "resource_metadata on another origin (http://localhost:1), not fetched", 0),
        ]
        for c in cases {
            try await peer.configure(["reset": true, "prm": c.prm, "www_authenticate": c.header])
            let (status, header) = try await unauthorized(base + "/protected")
            XCTAssertEqual(status, 401, c.name)
            let verdict = await verify(header, url)
            XCTAssertEqual(verdict.challenge, c.status, c.name)
            XCTAssertEqual(verdict.detail, c.detail, c.name)
            let fetches = try await peer.count("prm")
            XCTAssertEqual(fetches, c.fetches, c.name)
        }
    }

    func testUnreachablePRMIsInvalid() async throws {
        let port = try freeLoopbackPort()
        let url = "http://127.0.0.1:\(port)/mcp"
        let verdict = await verify(#"Bearer resource_metadata="http://127.0.0.1:\#(port)/prm""#, url)
        XCTAssertEqual(verdict, ChallengeVerdict(.invalid, "PRM connection_refused at /prm"))
    }
}

final class AuthChallengeCacheTests: XCTestCase {
    let tracing = AuthTracing()
    let good: [String: Any] = ["resource": "{base}/mcp", "authorization_servers": ["https://as.example.com"]]
    let prmPath = "/.well-known/oauth-protected-resource/mcp"

    func testVerdictsAreCachedPerChallenge() async throws {
        let peer = try await OAuthPeer(["prm": [prmPath: ["body": good]]])
        let url = peer.server.baseURL + "/mcp"
        let clock = TestInstant()
        let cache = ChallengeVerdictCache(now: { clock.now })
        for description in ["a", "b", "c"] {
            let verdict = await cache.verify(wwwAuthenticate: #"Bearer error="invalid_token", error_description="\#(description)""#,
                                             targetURL: url, http: tracing.http)
            XCTAssertEqual(verdict.challenge, .valid)
        }
        var fetches = try await peer.count("prm")
        XCTAssertEqual(fetches, 1)
        // Another resource_metadata is checked at once; so is the first challenge again, since it changed back.
        let other = await cache.verify(wwwAuthenticate: #"Bearer resource_metadata="\#(peer.server.baseURL)/nowhere""#,
                                       targetURL: url, http: tracing.http)
        XCTAssertEqual(other.detail, "PRM 404 at /nowhere")
        _ = await cache.verify(wwwAuthenticate: "Bearer", targetURL: url, http: tracing.http)
        fetches = try await peer.count("prm")
        XCTAssertEqual(fetches, 3)
        // Not Bearer, then Bearer again: checked again at once.
        _ = await cache.verify(wwwAuthenticate: #"Basic realm="x""#, targetURL: url, http: tracing.http)
        _ = await cache.verify(wwwAuthenticate: "Bearer", targetURL: url, http: tracing.http)
        fetches = try await peer.count("prm")
        XCTAssertEqual(fetches, 4)
    }

    /// Without `Cache-Control` a look-up, found or not, is kept 1 h (main kept 600 s).
    func testLookupsWithoutCacheControlAreKeptOneHour() async throws {
        let peer = try await OAuthPeer(["prm": [prmPath: ["body": good]]])
        let clock = TestInstant()
        let cache = ChallengeVerdictCache(now: { clock.now })
        var fetchesAt: [Int] = []
        for advance in [0, 601, 2998, 2] {  // t = 0, 601, 3599, 3601 s
            clock.advance(.seconds(advance))
            let found = await cache.verify(wwwAuthenticate: "Bearer", targetURL: peer.server.baseURL + "/mcp", http: tracing.http)
            XCTAssertEqual(found.challenge, .valid)
            let missing = await cache.verify(wwwAuthenticate: "Bearer", targetURL: peer.server.baseURL + "/missing", http: tracing.http)
            XCTAssertEqual(missing.challenge, .invalid)
            fetchesAt.append(try await peer.count("prm"))
        }
        // /mcp: its document; /missing: its path-inserted URL and the root one, both 404.
        XCTAssertEqual(fetchesAt, [3, 3, 3, 6])
    }

    func testCacheControlIsHonoured() async throws {
        let peer = try await OAuthPeer(["prm": [prmPath: ["body": good, "cache_control": "public, max-age=30"]]])
        let url = peer.server.baseURL + "/mcp"
        let clock = TestInstant()
        let cache = ChallengeVerdictCache(now: { clock.now })
        for advance in [0, 29, 2] {  // fetched, kept at 29 s, stale at 31 s
            clock.advance(.seconds(advance))
            let verdict = await cache.verify(wwwAuthenticate: "Bearer", targetURL: url, http: tracing.http)
            XCTAssertEqual(verdict.challenge, .valid)
        }
        var fetches = try await peer.count("prm")
        XCTAssertEqual(fetches, 2, "max-age=30")

        try await peer.configure(["reset": true, "prm": [prmPath: ["body": good, "cache_control": "no-store"]]])
        clock.advance(.seconds(60))
        for _ in 0..<3 { _ = await cache.verify(wwwAuthenticate: "Bearer", targetURL: url, http: tracing.http) }
        fetches = try await peer.count("prm")
        XCTAssertEqual(fetches, 3, "no-store: this probe only")
    }
}

/// Unauthenticated liveness against a 401 target, counted at the server (issue 14, item 8).
final class AuthChallengeProbeCountTests: XCTestCase {
    func liveness(_ peer: OAuthPeer, path: String = "/protected/mcp") -> Target {
        Target(name: "guarded", url: peer.server.baseURL + path, kind: .mcp(MCPOptions(transport: .auto)), timeout: .seconds(5))
    }

    func testOneRequestPerProbeOnA401TargetWithoutMetadata() async throws {
        let peer = try await OAuthPeer(["www_authenticate": #"Bearer error="invalid_token", error_description="no token""#])
        let harness = ProbeHarness()
        var perProbe: [Int] = []
        var seen = 0
        for _ in 0..<3 {
            let (run, _) = await harness.run(liveness(peer))
            XCTAssertEqual(run.report.outcome.health, .alive, run.report.outcome.message)
            XCTAssertTrue(run.report.attributes.contains(Attribute("auth.challenge", .string("invalid"))))
            let counts = try await peer.counts()
            let total = counts.values.reduce(0, +)
            perProbe.append(total - seen)
            seen = total
        }
        XCTAssertEqual(perProbe, [3, 1, 1], "requests per probe: the 401 and, on the first probe only, both well-known look-ups")
        // Another target on the same origin shares the root look-up; only its own path-inserted one is new.
        _ = await harness.run(liveness(peer, path: "/protected/other"))
        let prm = try await peer.count("prm")
        XCTAssertEqual(prm, 3)
    }
}

/// A settable monotonic clock.
final class TestInstant: Sendable {
    private let current = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { current.withLock { $0 } }
    func advance(_ duration: Duration) { current.withLock { $0 += duration } }
}
