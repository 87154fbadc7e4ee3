import Foundation
import HTTPClient
@testable import ProbeLogic
import TestSupport
import Tracing
import XCTest

final class AuthCredentialStoreTests: XCTestCase {
    static let clientSecret = "cc-secret-value"
    /// Every value a token request or a token file may carry that must never be recorded.
    static let secrets = [clientSecret, "access-1-Qx7", "access-2-Qx7", "access-3-Qx7", "stored-access-Zk4",
                          "refresh-1", "refresh-2", "env-token-Pp2"]

    let tracing = AuthTracing()
    let clock = TestClock()

    func store(options: OAuthCredentialStore.Options = .init(), env: [String: String] = [:]) -> OAuthCredentialStore {
        let clock = self.clock
        return OAuthCredentialStore(http: tracing.http, options: options, now: { clock.now }, environment: { env[$0] })
    }

    func ccTarget(_ peer: OAuthPeer, scope: String? = "mcp:read", resource: String? = nil, name: String = "cc") -> Target {
        Target(name: name, url: "http://127.0.0.1:1/mcp",
               auth: .clientCredentials(ClientCredentials(tokenURL: peer.tokenURL, clientID: "probe-client",
                                                          clientSecret: Secret(Self.clientSecret), scope: scope,
                                                          resource: resource)))
    }

    func acTarget(file: String? = nil, env: String? = nil, peer: OAuthPeer? = nil, secret: String? = clientSecret) -> Target {
        Target(name: "ac", url: "http://127.0.0.1:1/mcp",
               auth: .authorizationCode(StoredToken(tokenFile: file, tokenEnv: env, tokenURL: peer?.tokenURL,
                                                    clientID: peer == nil ? nil : "probe-client",
                                                    clientSecret: secret.map(Secret.init))))
    }

    func writeTokenFile(_ dir: URL, _ object: [String: Any], mode: Int = 0o644) throws -> String {
        let path = dir.appendingPathComponent("target.token").path
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func checkNoSecrets(_ notes: [ResolvedCredentials], file: StaticString = #filePath, line: UInt = #line) async {
        assertNoSecrets(Self.secrets, spans: await tracing.spans(), texts: notes.compactMap(\.note), file: file, line: line)
    }

    // MARK: static

    func testStaticConfigsNeedNoTokenRequests() async {
        let store = store()
        let none = await store.credentials(for: Target(name: "a", url: "http://h/mcp"))
        XCTAssertEqual(none, ResolvedCredentials(authorization: nil, probeType: .anonymous))
        let bearer = await store.credentials(for: Target(name: "b", url: "http://h/mcp", auth: .bearer(token: Secret("t"))))
        XCTAssertEqual(bearer, ResolvedCredentials(authorization: "Bearer t", probeType: .authenticated))
        let basic = await store.credentials(for: Target(name: "c", url: "http://h/mcp",
                                                        auth: .basic(username: "u", password: Secret("p"))))
        XCTAssertEqual(basic.authorization, "Basic dTpw")
        let spans = await tracing.spans()
        XCTAssertTrue(spans.isEmpty)
    }

    // MARK: client_credentials

    func testClientCredentialsTokenFetchedOnceAndCached() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7"])
        let store = store()
        var results: [ResolvedCredentials] = []
        for _ in 0..<5 {
            results.append(await store.credentials(for: ccTarget(peer)))
            clock.advance(60)
        }
        for result in results {
            XCTAssertEqual(result, ResolvedCredentials(authorization: "Bearer access-1-Qx7", probeType: .authenticated, token: .obtained))
        }
        let cc = try await peer.count("client_credentials")
        XCTAssertEqual(cc, 1)

        let requests = try await peer.tokenRequests()
        XCTAssertEqual(requests.first?.form, ["grant_type": "client_credentials", "scope": "mcp:read",
                                              "resource": "http://127.0.0.1:1/mcp"])
        XCTAssertEqual(requests.first?.authorization,
                       "Basic " + Data("probe-client:\(Self.clientSecret)".utf8).base64EncodedString())
        let spans = await tracing.spans()
        let tokenSpan = try XCTUnwrap(spans.first)
        XCTAssertEqual(spans.count, 1)
        XCTAssertEqual(tokenSpan.kind, .client)
        XCTAssertEqual(tokenSpan.attributes["url.full"], .string(peer.tokenURL))
        XCTAssertEqual(tokenSpan.attributes["http.response.status_code"], .int(200))
        await checkNoSecrets(results)
    }

    func testClientCredentialsConfiguredResourceWithoutScope() async throws {
        let peer = try await OAuthPeer()
        _ = await store().credentials(for: ccTarget(peer, scope: nil, resource: "https://mcp.example.com/mcp"))
        let form = try await peer.tokenRequests().first?.form
        XCTAssertEqual(form, ["grant_type": "client_credentials", "resource": "https://mcp.example.com/mcp"])
    }

    func testClientCredentialsRenewedSkewBeforeExpiry() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7", "expires_in": 120])
        let store = store()  // skew 30 s: renew at 90 s
        let first = await store.credentials(for: ccTarget(peer))
        clock.advance(89)
        let cached = await store.credentials(for: ccTarget(peer))
        clock.advance(2)
        let renewed = await store.credentials(for: ccTarget(peer))
        XCTAssertEqual(first.authorization, "Bearer access-1-Qx7")
        XCTAssertEqual(cached.authorization, "Bearer access-1-Qx7")
        XCTAssertEqual(renewed.authorization, "Bearer access-2-Qx7")
        let cc = try await peer.count("client_credentials")
        XCTAssertEqual(cc, 2)
        await checkNoSecrets([first, cached, renewed])
    }

    func testClientCredentialsWithoutExpiresInCachedFiveMinutes() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7", "expires_in": nil])
        let store = store()
        _ = await store.credentials(for: ccTarget(peer))
        clock.advance(299)
        let cached = await store.credentials(for: ccTarget(peer))
        clock.advance(2)
        let renewed = await store.credentials(for: ccTarget(peer))
        XCTAssertEqual(cached.authorization, "Bearer access-1-Qx7")
        XCTAssertEqual(renewed.authorization, "Bearer access-2-Qx7")
    }

    func testClientCredentialsRefetchedAfterRejection() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7"])
        let store = store()
        let target = ccTarget(peer)
        _ = await store.credentials(for: target)
        await store.rejected(target)
        let renewed = await store.credentials(for: target)
        let again = await store.credentials(for: target)
        XCTAssertEqual(renewed.authorization, "Bearer access-2-Qx7")
        XCTAssertEqual(again.authorization, "Bearer access-2-Qx7")
        let cc = try await peer.count("client_credentials")
        XCTAssertEqual(cc, 2)
    }

    /// The probe runs without credentials, and the credentials say why the token is unavailable.
    func testClientCredentialsFailuresAreTokenUnavailable() async throws {
        let peer = try await OAuthPeer()
        let cases: [(String?, String, String)] = [
            ("invalid_client", "token endpoint: invalid_client (HTTP 401)", "invalid_client"),
            ("server_error", "token endpoint: server_error (HTTP 500)", "server_error"),
            ("http_500", "token endpoint: HTTP 500", "http_500"),
            ("bad_gateway", "token endpoint: HTTP 502", "http_502"),
            ("garbage", "token endpoint: invalid response: not a JSON object", "invalid_json"),
            ("no_access_token", "token endpoint: invalid response: no access_token", "no_access_token"),
        ]
        var results: [ResolvedCredentials] = []
        for (fail, note, reason) in cases {
            try await peer.configure(["fail": fail])
            let result = await store().credentials(for: ccTarget(peer))
            XCTAssertEqual(result, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness, note: note,
                                                       token: .unavailable(reason: reason)))
            results.append(result)
        }
        // Wrong secret: the peer rejects the Basic credentials.
        try await peer.configure(["fail": nil, "client_secret": "another-secret"])
        let wrong = await store().credentials(for: ccTarget(peer))
        XCTAssertEqual(wrong.note, "token endpoint: invalid_client (HTTP 401)")
        XCTAssertEqual(wrong.token, .unavailable(reason: "invalid_client"))
        results.append(wrong)

        let refused = Target(name: "r", url: "http://127.0.0.1:1/mcp",
                             auth: .clientCredentials(ClientCredentials(tokenURL: "http://127.0.0.1:\(try freeLoopbackPort())/token",
                                                                        clientID: "c", clientSecret: Secret(Self.clientSecret))))
        let down = await store().credentials(for: refused)
        XCTAssertEqual(down, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness,
                                                 note: "token endpoint: connection_refused",
                                                 token: .unavailable(reason: "connection_refused")))
        results.append(down)
        await checkNoSecrets(results)
    }

    func testTokenRequestIsBoundedByTimeout() async throws {
        let peer = try await OAuthPeer(["delay": 3.0])
        let started = ContinuousClock.now
        let result = await store(options: .init(requestTimeout: .milliseconds(500))).credentials(for: ccTarget(peer))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
        XCTAssertEqual(result, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness,
                                                   note: "token endpoint: timeout", token: .unavailable(reason: "timeout")))
    }

    func testOversizedTokenResponseIsRejected() async throws {
        let peer = try await OAuthPeer(["access_token": String(repeating: "x", count: 70_000)])
        let result = await store().credentials(for: ccTarget(peer))
        XCTAssertEqual(result.note, "token endpoint: response_too_large")
        XCTAssertEqual(result.token, .unavailable(reason: "response_too_large"))
        XCTAssertEqual(result.probeType, .unauthenticatedLiveness)
    }

    func testFailedRenewalKeepsUsingUnexpiredToken() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7", "expires_in": 120])
        let store = store()
        _ = await store.credentials(for: ccTarget(peer))
        try await peer.configure(["fail": "server_error"])
        clock.advance(100)  // renewal due, token still valid for 20 s
        let stillValid = await store.credentials(for: ccTarget(peer))
        XCTAssertEqual(stillValid, ResolvedCredentials(authorization: "Bearer access-1-Qx7", probeType: .authenticated,
                                                       note: "token endpoint: server_error (HTTP 500)", token: .obtained))
        clock.advance(20)
        let expired = await store.credentials(for: ccTarget(peer))
        XCTAssertEqual(expired, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness,
                                                    note: "token endpoint: server_error (HTTP 500)",
                                                    token: .unavailable(reason: "server_error")))
    }

    func testConcurrentCallsShareOneTokenRequest() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7", "delay": 0.3])
        let store = store()
        let target = ccTarget(peer)
        let results = await withTaskGroup(of: ResolvedCredentials.self) { group in
            for _ in 0..<20 { group.addTask { await store.credentials(for: target) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results.count, 20)
        XCTAssertEqual(Set(results.map(\.authorization)), ["Bearer access-1-Qx7"])
        let cc = try await peer.count("client_credentials")
        XCTAssertEqual(cc, 1)
        // Different targets are not serialised behind each other.
        let (targetA, targetB) = (ccTarget(peer, name: "other-a"), ccTarget(peer, name: "other-b"))
        async let a = store.credentials(for: targetA)
        async let b = store.credentials(for: targetB)
        let pair = await [a, b]
        XCTAssertEqual(pair.filter(\.areSent).count, 2)
        let total = try await peer.count("client_credentials")
        XCTAssertEqual(total, 3)
    }

    func testChangedConfigurationDropsCachedToken() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7"])
        let store = store()
        _ = await store.credentials(for: ccTarget(peer, scope: "a"))
        let changed = await store.credentials(for: ccTarget(peer, scope: "b"))
        XCTAssertEqual(changed.authorization, "Bearer access-2-Qx7")
    }

    // MARK: authorization_code

    func testStoredTokenFromFileIsUsedWithoutTokenRequests() async throws {
        let dir = try temporaryDirectory(self)
        let json = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-1",
                                            "expires_at": clock.now.timeIntervalSince1970 + 3600])
        let bare = dir.appendingPathComponent("bare.token").path
        try "stored-access-Zk4\n".write(toFile: bare, atomically: true, encoding: .utf8)
        let store = store()
        for path in [json, bare] {
            let result = await store.credentials(for: acTarget(file: path))
            XCTAssertEqual(result, ResolvedCredentials(authorization: "Bearer stored-access-Zk4", probeType: .authenticated,
                                                       token: .obtained))
        }
        let spans = await tracing.spans()
        XCTAssertTrue(spans.isEmpty)
    }

    func testExpiredStoredTokenIsRefreshedAndFileRewrittenAtomically() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7", "expires_in": 3600])
        let dir = try temporaryDirectory(self)
        let path = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-1",
                                            "expires_at": clock.now.timeIntervalSince1970 - 10, "scope": "mcp:read"])
        let inodeBefore = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64
        let store = store()
        let result = await store.credentials(for: acTarget(file: path, peer: peer))
        XCTAssertEqual(result, ResolvedCredentials(authorization: "Bearer access-1-Qx7", probeType: .authenticated, token: .obtained))

        let requests = try await peer.tokenRequests()
        let request = try XCTUnwrap(requests.first)
        XCTAssertEqual(request.form, ["grant_type": "refresh_token", "refresh_token": "refresh-1",
                                      "client_id": "probe-client", "resource": "http://127.0.0.1:1/mcp"])
        XCTAssertEqual(request.authorization, "Basic " + Data("probe-client:\(Self.clientSecret)".utf8).base64EncodedString())

        let saved = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        XCTAssertEqual(saved["access_token"] as? String, "access-1-Qx7")
        XCTAssertEqual(saved["refresh_token"] as? String, "refresh-1", "the old refresh token is kept when none is issued")
        XCTAssertEqual(saved["expires_at"] as? Int, Int(clock.now.timeIntervalSince1970) + 3600)
        XCTAssertEqual(saved["scope"] as? String, "mcp:read")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual(attributes[.posixPermissions] as? Int, 0o600)
        XCTAssertNotEqual(attributes[.systemFileNumber] as? UInt64, inodeBefore, "replaced by rename, not rewritten in place")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["target.token"], "no temp file left")

        // Fresh now: no further refresh, and the rewritten file reads back as the same token.
        let again = await store.credentials(for: acTarget(file: path, peer: peer))
        XCTAssertEqual(again.authorization, "Bearer access-1-Qx7")
        let fresh = await self.store().credentials(for: acTarget(file: path, peer: peer))
        XCTAssertEqual(fresh.authorization, "Bearer access-1-Qx7")
        let refreshes = try await peer.count("refresh_token")
        XCTAssertEqual(refreshes, 1)
        await checkNoSecrets([result, again])
    }

    func testRotatedRefreshTokenIsSaved() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7", "rotate_refresh": true])
        let dir = try temporaryDirectory(self)
        let path = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-1",
                                            "expires_at": clock.now.timeIntervalSince1970 - 10])
        let store = store()
        _ = await store.credentials(for: acTarget(file: path, peer: peer))
        var saved = try XCTUnwrap(StoredTokenFile.read(path).get())
        XCTAssertEqual(saved.refreshToken, Secret("refresh-2"))
        clock.advance(3600)
        let second = await store.credentials(for: acTarget(file: path, peer: peer))
        XCTAssertEqual(second.authorization, "Bearer access-2-Qx7")
        saved = try XCTUnwrap(StoredTokenFile.read(path).get())
        XCTAssertEqual(saved.refreshToken, Secret("refresh-3"))
        let forms = try await peer.tokenRequests().map { $0.form["refresh_token"] }
        XCTAssertEqual(forms, ["refresh-1", "refresh-2"])
    }

    func testPublicClientRefreshesWithoutBasicAuth() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7", "client_secret": nil])
        let dir = try temporaryDirectory(self)
        let path = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-1",
                                            "expires_at": clock.now.timeIntervalSince1970 - 10])
        let result = await store().credentials(for: acTarget(file: path, peer: peer, secret: nil))
        XCTAssertEqual(result.authorization, "Bearer access-1-Qx7")
        let request = try await peer.tokenRequests().first
        XCTAssertNil(request?.authorization)
        XCTAssertEqual(request?.form["client_id"], "probe-client")
    }

    func testRefreshInvalidGrantFallsBackAndLeavesFileUntouched() async throws {
        let peer = try await OAuthPeer(["fail": "invalid_grant"])
        let dir = try temporaryDirectory(self)
        let path = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-1",
                                            "expires_at": clock.now.timeIntervalSince1970 - 10])
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let store = store()
        let first = await store.credentials(for: acTarget(file: path, peer: peer))
        XCTAssertEqual(first, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness,
                                                  note: "token refresh: invalid_grant (HTTP 400)",
                                                  token: .unavailable(reason: "invalid_grant")))
        // The dead refresh token is not sent again.
        let second = await store.credentials(for: acTarget(file: path, peer: peer))
        XCTAssertEqual(second, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness,
                                                   note: "stored token expired; refresh token was rejected (invalid_grant)",
                                                   token: .unavailable(reason: "invalid_grant")))
        let refreshes = try await peer.count("refresh_token")
        XCTAssertEqual(refreshes, 1)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["target.token"])

        // An operator stores a new token: it is used.
        _ = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-2",
                                     "expires_at": clock.now.timeIntervalSince1970 + 600])
        let replaced = await store.credentials(for: acTarget(file: path, peer: peer))
        XCTAssertEqual(replaced.authorization, "Bearer stored-access-Zk4")
        await checkNoSecrets([first, second, replaced])
    }

    func testRejectedStoredTokenIsRefreshed() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7"])
        let dir = try temporaryDirectory(self)
        let path = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-1"])
        let store = store()
        let target = acTarget(file: path, peer: peer)
        let stored = await store.credentials(for: target)
        XCTAssertEqual(stored.authorization, "Bearer stored-access-Zk4")
        await store.rejected(target)
        let refreshed = await store.credentials(for: target)
        XCTAssertEqual(refreshed.authorization, "Bearer access-1-Qx7")
        XCTAssertEqual(try StoredTokenFile.read(path).get().accessToken, Secret("access-1-Qx7"))
    }

    func testRejectedOrExpiredTokenWithoutRefreshFallsBack() async throws {
        let dir = try temporaryDirectory(self)
        let bare = dir.appendingPathComponent("bare.token").path
        try "stored-access-Zk4".write(toFile: bare, atomically: true, encoding: .utf8)
        let store = store()
        let target = acTarget(file: bare)
        _ = await store.credentials(for: target)
        await store.rejected(target)
        let rejected = await store.credentials(for: target)
        XCTAssertEqual(rejected, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness,
                                                     note: "stored token rejected; no refresh token", token: .notStored))
        try "stored-access-Zk4-new".write(toFile: bare, atomically: true, encoding: .utf8)
        let replaced = await store.credentials(for: target)
        XCTAssertEqual(replaced.authorization, "Bearer stored-access-Zk4-new")

        let path = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-1",
                                            "expires_at": clock.now.timeIntervalSince1970 - 10])
        let noRefreshConfig = await store.credentials(for: acTarget(file: path))
        XCTAssertEqual(noRefreshConfig, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness,
                                                            note: "stored token expired; refresh needs token_url and client_id",
                                                            token: .notStored))
        await checkNoSecrets([rejected, replaced, noRefreshConfig])
    }

    func testTokenFromEnvironment() async throws {
        let store = store(env: ["PROBE_TOKEN": "env-token-Pp2\n"])
        let result = await store.credentials(for: acTarget(env: "PROBE_TOKEN"))
        XCTAssertEqual(result, ResolvedCredentials(authorization: "Bearer env-token-Pp2", probeType: .authenticated, token: .obtained))
        let missing = await store.credentials(for: acTarget(env: "OTHER_TOKEN"))
        XCTAssertEqual(missing, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness,
                                                    note: "$OTHER_TOKEN is not set", token: .notStored))
        // The file wins when present; the environment is the fallback when it is not.
        let dir = try temporaryDirectory(self)
        let fallback = await store.credentials(for: acTarget(file: dir.appendingPathComponent("absent").path, env: "PROBE_TOKEN"))
        XCTAssertEqual(fallback.authorization, "Bearer env-token-Pp2")
    }

    func testNoTokenAtAllIsUnauthenticatedLiveness() async throws {
        let dir = try temporaryDirectory(self)
        let absent = dir.appendingPathComponent("absent.token").path
        let store = store()
        let cases: [(Target, String)] = [
            (acTarget(file: absent), "token file \(absent) not found"),
            (acTarget(file: absent, env: "UNSET_VAR"), "token file \(absent) not found; $UNSET_VAR is not set"),
            (acTarget(), "no token_file or token_env configured"),
        ]
        for (target, note) in cases {
            let result = await store.credentials(for: target)
            XCTAssertEqual(result, ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness, note: note,
                                                       token: .notStored))
        }
        let garbage = dir.appendingPathComponent("garbage.token").path
        try "not a token".write(toFile: garbage, atomically: true, encoding: .utf8)
        let malformed = await store.credentials(for: acTarget(file: garbage))
        XCTAssertEqual(malformed.note, "token file \(garbage) is neither token JSON nor a bare token")
    }

    func testConcurrentRefreshIsSingleFlight() async throws {
        let peer = try await OAuthPeer(["access_token": "access-{n}-Qx7", "delay": 0.3, "rotate_refresh": true])
        let dir = try temporaryDirectory(self)
        let path = try writeTokenFile(dir, ["access_token": "stored-access-Zk4", "refresh_token": "refresh-1",
                                            "expires_at": clock.now.timeIntervalSince1970 - 10])
        let store = store()
        let target = acTarget(file: path, peer: peer)
        let results = await withTaskGroup(of: ResolvedCredentials.self) { group in
            for _ in 0..<10 { group.addTask { await store.credentials(for: target) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(Set(results.map(\.authorization)), ["Bearer access-1-Qx7"])
        let refreshes = try await peer.count("refresh_token")
        XCTAssertEqual(refreshes, 1)
    }
}
