import Foundation
@testable import ProbeLogic
import XCTest

final class AuthParsingTests: XCTestCase {
    func testFormEncoding() {
        let cases: [(String, String)] = [
            ("abc-._~XYZ09", "abc-._~XYZ09"),
            ("a b", "a+b"),
            ("https://mcp.example.com/mcp", "https%3A%2F%2Fmcp.example.com%2Fmcp"),
            ("mcp:read mcp:write", "mcp%3Aread+mcp%3Awrite"),
            ("p+w&=%", "p%2Bw%26%3D%25"),
            ("é", "%C3%A9"),
            ("", ""),
        ]
        for (input, expected) in cases { XCTAssertEqual(TokenEndpoint.formEncode(input), expected, input) }
    }

    func testGrantForms() {
        let confidential = TokenEndpoint.Client(id: "id 1", secret: Secret("s:e/c"))
        XCTAssertEqual(TokenEndpoint.form(.clientCredentials(scope: "a b", resource: "https://h/mcp"), client: confidential),
                       "grant_type=client_credentials&scope=a+b&resource=https%3A%2F%2Fh%2Fmcp")
        XCTAssertEqual(TokenEndpoint.form(.clientCredentials(scope: nil, resource: "r"), client: confidential),
                       "grant_type=client_credentials&resource=r")
        XCTAssertEqual(TokenEndpoint.form(.clientCredentials(scope: "", resource: "r"), client: confidential),
                       "grant_type=client_credentials&resource=r")
        XCTAssertEqual(TokenEndpoint.form(.refreshToken(Secret("rt/1"), resource: "r"), client: confidential),
                       "grant_type=refresh_token&refresh_token=rt%2F1&client_id=id+1&resource=r")
        // The secret never goes into the body: client_secret_basic only.
        XCTAssertFalse(TokenEndpoint.form(.refreshToken(Secret("rt"), resource: "r"), client: confidential).contains("s%3Ae"))
    }

    func testBasicAuthorizationEncodesBeforeBase64() {
        let header = TokenEndpoint.basicAuthorization(TokenEndpoint.Client(id: "id 1", secret: Secret("s:e/c")))
        XCTAssertEqual(header, "Basic " + Data("id+1:s%3Ae%2Fc".utf8).base64EncodedString())
        XCTAssertNil(TokenEndpoint.basicAuthorization(TokenEndpoint.Client(id: "public", secret: nil)))
    }

    func testTokenResponseParsing() {
        func parse(_ status: Int, _ body: String) -> Result<TokenResponse, TokenError> {
            TokenEndpoint.parse(status: status, body: Array(body.utf8))
        }
        let cases: [(Int, String, Result<TokenResponse, TokenError>)] = [
            (200, #"{"access_token":"a","token_type":"Bearer","expires_in":60}"#,
             .success(TokenResponse(accessToken: Secret("a"), expiresIn: 60))),
            (200, #"{"access_token":"a","token_type":"bearer","expires_in":"90","refresh_token":"r"}"#,
             .success(TokenResponse(accessToken: Secret("a"), refreshToken: Secret("r"), expiresIn: 90))),
            (200, #"{"access_token":"a"}"#, .success(TokenResponse(accessToken: Secret("a")))),
            (200, #"{"access_token":"a","expires_in":-5,"refresh_token":""}"#,
             .success(TokenResponse(accessToken: Secret("a"), expiresIn: 0))),
            (200, #"{"access_token":"a","expires_in":12.7}"#, .success(TokenResponse(accessToken: Secret("a"), expiresIn: 12))),
            (200, #"{"access_token":""}"#, .failure(.invalidResponse(.noAccessToken))),
            (200, #"{"token_type":"Bearer"}"#, .failure(.invalidResponse(.noAccessToken))),
            (200, #"{"access_token":"a","token_type":"DPoP"}"#, .failure(.invalidResponse(.notBearer("DPoP")))),
            (200, "<html>", .failure(.invalidResponse(.notJSON))),
            (200, "[1]", .failure(.invalidResponse(.notJSON))),
            (400, #"{"error":"invalid_grant","error_description":"refresh-1 is revoked"}"#,
             .failure(.oauth(code: "invalid_grant", status: 400))),
            (401, #"{"error":"invalid_client"}"#, .failure(.oauth(code: "invalid_client", status: 401))),
            (400, #"{"error":"bad \"code\" with spaces"}"#, .failure(.oauth(code: "unrecognised", status: 400))),
            (503, "down", .failure(.http(status: 503))),
            (302, "", .failure(.http(status: 302))),
        ]
        for (status, body, expected) in cases { XCTAssertEqual(parse(status, body), expected, body) }
    }

    func testTokenErrorDescriptions() {
        XCTAssertEqual("\(TokenError.oauth(code: "invalid_grant", status: 400))", "invalid_grant (HTTP 400)")
        XCTAssertEqual("\(TokenError.http(status: 500))", "HTTP 500")
        XCTAssertEqual("\(TokenError.transport("timeout"))", "timeout")
        XCTAssertTrue(TokenError.oauth(code: "invalid_grant", status: 400).isInvalidGrant)
        XCTAssertFalse(TokenError.oauth(code: "invalid_client", status: 401).isInvalidGrant)
    }

    func testStoredTokenParsing() {
        let cases: [(String, OAuthToken?)] = [
            ("tok-123\n", OAuthToken(accessToken: Secret("tok-123"))),
            ("  eyJhbGciOi.x.y  ", OAuthToken(accessToken: Secret("eyJhbGciOi.x.y"))),
            (#"{"access_token":"a","refresh_token":"r","expires_at":1700000000}"#,
             OAuthToken(accessToken: Secret("a"), refreshToken: Secret("r"), expiresAt: Date(timeIntervalSince1970: 1_700_000_000))),
            (#"{"access_token":"a","expires_at":"1700000000"}"#,
             OAuthToken(accessToken: Secret("a"), expiresAt: Date(timeIntervalSince1970: 1_700_000_000))),
            (#"{"access_token":"a","refresh_token":""}"#, OAuthToken(accessToken: Secret("a"))),
            (#"{"refresh_token":"r"}"#, nil),
            (#"{"access_token":"#, nil),
            ("two words", nil),
            ("", nil),
            ("\n", nil),
        ]
        for (text, expected) in cases { XCTAssertEqual(StoredTokenFile.parse(Data(text.utf8)), expected, text) }
    }

    func testStoredTokenEncodingKeepsOtherFields() throws {
        let token = OAuthToken(accessToken: Secret("new"), refreshToken: nil, expiresAt: Date(timeIntervalSince1970: 1_700_000_000.9))
        let data = StoredTokenFile.encode(token, over: Data(#"{"access_token":"old","refresh_token":"r","scope":"mcp:read"}"#.utf8))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["access_token"] as? String, "new")
        XCTAssertNil(object["refresh_token"])
        XCTAssertEqual(object["expires_at"] as? Int, 1_700_000_000)
        XCTAssertEqual(object["scope"] as? String, "mcp:read")
        XCTAssertEqual(StoredTokenFile.parse(StoredTokenFile.encode(token, over: Data("bare".utf8)))?.accessToken, Secret("new"))
    }

    func testLifetimePolicy() {
        let policy = TokenLifetimePolicy(skew: .seconds(30), defaultLifetime: .seconds(300))
        let t0 = Date(timeIntervalSince1970: 1000)
        let cases: [(Int?, Double)] = [(3600, 4570), (60, 1030), (40, 1020), (10, 1005), (0, 1000), (nil, 1300)]
        for (expiresIn, renew) in cases {
            XCTAssertEqual(policy.renewAt(issuedAt: t0, expiresIn: expiresIn).timeIntervalSince1970, renew, "\(String(describing: expiresIn))")
        }
        XCTAssertEqual(policy.renewAt(storedExpiry: t0)?.timeIntervalSince1970, 970)
        XCTAssertNil(policy.renewAt(storedExpiry: nil))
    }

    func testTokenCache() {
        var cache = TokenCache()
        let t0 = Date(timeIntervalSince1970: 1000)
        let token = OAuthToken(accessToken: Secret("a"), expiresAt: t0.addingTimeInterval(60))
        cache.store(token, renewAt: t0.addingTimeInterval(30), for: "k")
        XCTAssertEqual(cache.fresh("k", now: t0), token)
        XCTAssertNil(cache.fresh("k", now: t0.addingTimeInterval(30)))
        XCTAssertEqual(cache.stillValid("k", now: t0.addingTimeInterval(59)), token)
        XCTAssertNil(cache.stillValid("k", now: t0.addingTimeInterval(60)))
        cache.markRejected("k")
        XCTAssertNil(cache.fresh("k", now: t0))
        XCTAssertNil(cache.stillValid("k", now: t0))
        XCTAssertNil(cache.fresh("other", now: t0))
        cache.store(OAuthToken(accessToken: Secret("b")), renewAt: nil, for: "k")
        XCTAssertEqual(cache.fresh("k", now: .distantFuture)?.accessToken, Secret("b"))
    }

    func testChallengeMetadataURLs() {
        let url = "http://127.0.0.1:8000/public/mcp"
        let cases: [(String?, String, ChallengeCheck.MetadataPlan)] = [
            (nil, url, .verdict(ChallengeVerdict(.missing, "no WWW-Authenticate header"))),
            ("  ", url, .verdict(ChallengeVerdict(.missing, "no WWW-Authenticate header"))),
            (#"Basic realm="x""#, url, .verdict(ChallengeVerdict(.missing, "no Bearer challenge (scheme Basic)"))),
            (#"Bearer resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/public/mcp""#, url,
             .fetch(["http://127.0.0.1:8000/.well-known/oauth-protected-resource/public/mcp"])),
            (#"Basic realm="x", Bearer error="invalid_token", resource_metadata="http://127.0.0.1:8000/prm""#, url,
             .fetch(["http://127.0.0.1:8000/prm"])),
            (#"Bearer resource_metadata="https://evil.example/prm""#, url,
             .verdict(ChallengeVerdict(.invalid, "resource_metadata on another origin (https://evil.example:443), not fetched"))),
            (#"Bearer resource_metadata="http://127.0.0.1:9999/prm""#, url,
             .verdict(ChallengeVerdict(.invalid, "resource_metadata on another origin (http://127.0.0.1:9999), not fetched"))),
            (#"Bearer resource_metadata="/prm""#, url,
             .verdict(ChallengeVerdict(.invalid, "resource_metadata is not an absolute http(s) URL"))),
            (#"Bearer error="invalid_token""#, url,
             .fetch(["http://127.0.0.1:8000/.well-known/oauth-protected-resource/public/mcp",
                     "http://127.0.0.1:8000/.well-known/oauth-protected-resource"])),
            ("Bearer", "https://h.example/mcp?x=1#frag",
             .fetch(["https://h.example/.well-known/oauth-protected-resource/mcp?x=1",
                     "https://h.example/.well-known/oauth-protected-resource"])),
            ("Bearer", "https://h.example/", .fetch(["https://h.example/.well-known/oauth-protected-resource"])),
            ("Bearer", "https://h.example", .fetch(["https://h.example/.well-known/oauth-protected-resource"])),
            ("bearer", "mcp.example.com/mcp", .verdict(ChallengeVerdict(.invalid, "probed URL is not an absolute http(s) URL"))),
        ]
        for (header, target, expected) in cases {
            XCTAssertEqual(ChallengeCheck.metadataURLs(wwwAuthenticate: header, targetURL: target), expected, header ?? "nil")
        }
    }

    func testChallengePRMEvaluation() {
        let url = "http://h/mcp"
        let cases: [(String, ChallengeStatus, String)] = [
            (#"{"resource":"http://h/mcp","authorization_servers":["https://as.example"]}"#, .valid,
             "PRM ok: authorization_servers https://as.example"),
            (#"{"resource":"http://h/mcp/","authorization_servers":["https://as.example"]}"#, .invalid,
             "PRM resource mismatch (trailing slash): http://h/mcp/ != http://h/mcp"),
            (#"{"resource":"http://h/other","authorization_servers":["https://as.example"]}"#, .invalid,
             "PRM resource mismatch: http://h/other != http://h/mcp"),
            (#"{"authorization_servers":["https://as.example"]}"#, .invalid, "PRM has no resource"),
            (#"{"resource":"http://h/mcp"}"#, .invalid, "PRM has no authorization_servers"),
            (#"{"resource":"http://h/mcp","authorization_servers":[]}"#, .invalid, "PRM has no authorization_servers"),
            (#"{"resource":"http://h/mcp","authorization_servers":"https://as.example"}"#, .invalid, "PRM has no authorization_servers"),
            (#"{"resource":"http://h/mcp","authorization_servers":["/as"]}"#, .invalid,
             "PRM authorization_servers has an entry that is not an absolute http(s) URL"),
            (#"{"resource":"http://h/mcp","authorization_servers":[1]}"#, .invalid,
             "PRM authorization_servers has an entry that is not an absolute http(s) URL"),
            ("not json", .invalid, "PRM is not a JSON object"),
        ]
        for (body, status, detail) in cases {
            let verdict = ChallengeCheck.evaluate(prm: Array(body.utf8), targetURL: url)
            XCTAssertEqual(verdict.challenge, status, body)
            XCTAssertEqual(verdict.detail, detail, body)
        }
        // Secret query values of the probed URL never reach the detail.
        let secretURL = "http://h/mcp?api_key=SECRETKEY"
        let verdict = ChallengeCheck.evaluate(prm: Array(#"{"resource":"http://h/mcp"}"#.utf8), targetURL: secretURL)
        XCTAssertFalse(verdict.detail.contains("SECRETKEY"), verdict.detail)
    }

    func testVerdictAttributes() {
        let valid = ChallengeVerdict(.valid, "ok", authorizationServers: ["https://as"])
        XCTAssertEqual(valid.attributes["auth.challenge"], "valid")
        XCTAssertEqual(valid.attributes["auth.challenge.detail"], "ok")
        XCTAssertEqual(valid.attributes["auth.authorization_servers"], .array(["https://as"]))
        XCTAssertNil(ChallengeVerdict(.missing, "x").attributes["auth.authorization_servers"])
    }

    func testFreshnessParsing() {
        let cases: [(String?, Duration?)] = [
            (nil, nil), ("public", nil), ("max-age=60", .seconds(60)), ("public, MAX-AGE=\"5\"", .seconds(5)),
            ("max-age=-1", nil), ("max-age=soon", nil), ("no-store", .zero), ("max-age=60, no-cache", .zero),
        ]
        for (header, expected) in cases {
            XCTAssertEqual(ChallengeCheck.freshness(cacheControl: header), expected, header ?? "nil")
        }
    }
}
