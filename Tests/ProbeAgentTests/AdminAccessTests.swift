import Foundation
import HTTPClient
import TestSupport
import XCTest
@testable import ProbeAgent

/// `admin.basic_auth_users`: bcrypt hashes as Prometheus' exporter-toolkit takes them, checked by
/// libxcrypt, against hashes made by other implementations.
final class AdminAccessTests: XCTestCase {
    static let password = "correct horse"
    /// Made by Python's bcrypt 3.2.2: `bcrypt.hashpw(b"correct horse", bcrypt.gensalt(rounds=6))`.
    static let pythonHash = "$2b$06$BNDkiQncRzIJ1Y/p8eg5guSCmAj64zo6eeeUZm5QOURhnYOXDUO3y"

    /// `htpasswd -nbBC 5 USER PASSWORD` (apache2-utils, installed by scripts/test): a `$2y$` hash.
    static func htpasswdHash(_ password: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/htpasswd")
        process.arguments = ["-nbBC", "5", "u", password]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2))
    }

    func testBcryptHashesOfOtherImplementationsVerify() throws {
        let htpasswd = try Self.htpasswdHash(Self.password)
        XCTAssertTrue(htpasswd.hasPrefix("$2y$05$"), htpasswd)
        for hash in [Self.pythonHash, htpasswd] {
            XCTAssertTrue(BcryptHash.isWellFormed(hash), hash)
            XCTAssertTrue(BcryptHash.verify(password: Self.password, hash: hash), hash)
            XCTAssertFalse(BcryptHash.verify(password: "correct horsE", hash: hash), hash)
            XCTAssertFalse(BcryptHash.verify(password: "", hash: hash), hash)
        }
        for bad in ["correct horse", "$2b$06$short", "$2b$99$BNDkiQncRzIJ1Y/p8eg5guSCmAj64zo6eeeUZm5QOURhnYOXDUO3y", "$1$abc$def"] {
            XCTAssertFalse(BcryptHash.isWellFormed(bad), bad)
            XCTAssertFalse(BcryptHash.verify(password: "correct horse", hash: bad), bad)
        }
    }

    private static func get(_ port: Int, _ path: String, user: String? = nil, password: String? = nil) async throws -> HTTPResponse {
        var request = HTTPRequest(url: "http://127.0.0.1:\(port)\(path)", timeout: .seconds(5))
        if let user, let password {
            request.headers.add("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        }
        return try await HTTPClient.shared.execute(request)
    }

    func testNoOrWrongCredentialsGet401WithoutDetailRightOnes200HealthAndReadinessStayOpen() async throws {
        let access = AdminAccess(users: ["alice": Self.pythonHash, "bob": try Self.htpasswdHash("bobs secret")])
        let routes = AdminRoutes(health: { true }, readiness: { (true, "") }, metrics: { "probe_success 1\n" },
                                 status: { Array("{}".utf8) }, access: access)
        let server = AdminServer(listen: ListenAddress(host: "127.0.0.1", port: 0), routes: routes)
        try await server.start()
        let bound = await server.boundPort
        let port = try XCTUnwrap(bound)

        var refusals: [String] = []
        for (user, password) in [(nil, nil), ("alice", "wrong"), ("alice", ""), ("mallory", Self.password), ("bob", Self.password)] as [(String?, String?)] {
            for path in ["/status", "/metrics", "/", "/nope"] {
                let response = try await Self.get(port, path, user: user, password: password)
                XCTAssertEqual(response.status, 401, "\(user ?? "-") \(path)")
                XCTAssertEqual(response.headers["WWW-Authenticate"], "Basic realm=\"probe-agent\", charset=\"UTF-8\"")
                refusals.append(String(decoding: response.body, as: UTF8.self))
            }
        }
        XCTAssertEqual(Set(refusals), ["Unauthorized\n"], "the same answer whatever was wrong")
        var response = try await Self.get(port, "/status", user: "alice", password: Self.password)
        XCTAssertEqual(response.status, 200)
        response = try await Self.get(port, "/metrics", user: "bob", password: "bobs secret")
        XCTAssertEqual(response.status, 200)
        for path in ["/healthz", "/readyz"] {
            response = try await Self.get(port, path)
            XCTAssertEqual(response.status, 200, path)
        }
        // A reload that drops the users opens the endpoints again.
        access.update(users: [:])
        response = try await Self.get(port, "/status")
        XCTAssertEqual(response.status, 200)
        await server.stop()
    }

    func testConfigRefusesWhatIsNotABcryptHashWithoutEchoingIt() {
        let errors = ConfigFixture.errors("""
            admin:
              listen: 127.0.0.1:9464
              basic_auth_users:
                alice: plain-password-here
                bob: \(Self.pythonHash)
              history: 0
              trace_url: http://jaeger.example/trace/
            targets:
              - name: a
                url: http://127.0.0.1:1/
            """)
        let text = errors.joined(separator: "\n")
        XCTAssertTrue(text.contains("admin.basic_auth_users.alice"), text)
        XCTAssertTrue(text.contains("is not a bcrypt hash"), text)
        XCTAssertFalse(text.contains("plain-password-here"), text)
        XCTAssertFalse(text.contains("admin.basic_auth_users.bob"), text)
        XCTAssertTrue(text.contains("admin.history"), text)
        XCTAssertTrue(text.contains("admin.trace_url") && text.contains("{trace_id}"), text)
    }

    func testTLSWithAClientCARefusesAClientWithoutACertificate() async throws {
        let server = try SelfSignedCertificate.make()
        let client = try SelfSignedCertificate.make()
        let stranger = try SelfSignedCertificate.make()
        defer { server.remove(); client.remove(); stranger.remove() }
        let context = try AdminTLS.context(AdminTLSSettings(certFile: server.certFile, keyFile: server.keyFile,
                                                            clientCAFile: client.certFile))
        let routes = AdminRoutes(health: { true }, readiness: { (true, "") }, metrics: { "" }, status: { Array("{}".utf8) },
                                 access: AdminAccess(users: ["alice": Self.pythonHash], tls: context))
        let admin = AdminServer(listen: ListenAddress(host: "127.0.0.1", port: 0), routes: routes)
        try await admin.start()
        let bound = await admin.boundPort
        let port = try XCTUnwrap(bound)
        func get(_ path: String, scheme: String = "https", certificate: SelfSignedCertificate?) async -> Result<Int, any Error> {
            var request = HTTPRequest(url: "\(scheme)://127.0.0.1:\(port)\(path)", timeout: .seconds(5))
            request.tls = TLSOptions(caFile: server.certFile, clientCertFile: certificate?.certFile, clientKeyFile: certificate?.keyFile)
            request.headers.add("Authorization", "Basic " + Data("alice:\(Self.password)".utf8).base64EncodedString())
            do { return .success(try await HTTPClient.shared.execute(request).status) } catch { return .failure(error) }
        }
        for path in ["/status", "/healthz"] {
            if case .success(let status) = await get(path, certificate: nil) { XCTFail("\(path) without a client certificate: \(status)") }
            if case .success(let status) = await get(path, certificate: stranger) { XCTFail("\(path) with another CA's certificate: \(status)") }
        }
        if case .success(let status) = await get("/status", scheme: "http", certificate: nil) { XCTFail("plain HTTP: \(status)") }
        let accepted = await get("/status", certificate: client)
        XCTAssertEqual(try accepted.get(), 200)
        await admin.stop()
    }

    func testTLSFilesThatCannotBeLoadedAreAClearError() throws {
        let certificate = try SelfSignedCertificate.make()
        defer { certificate.remove() }
        XCTAssertThrowsError(try AdminTLS.context(AdminTLSSettings(certFile: certificate.keyFile, keyFile: certificate.keyFile))) {
            XCTAssertTrue("\($0)".hasPrefix("admin.tls"), "\($0)")
        }
    }

    func testAdminSettingsLoad() throws {
        let config = try ConfigFixture.parse("""
            admin:
              listen: 127.0.0.1:9464
              history: 30
              group_by: team
              trace_url: "http://grafana.example/explore?panes={%22a%22:{%22query%22:%22{trace_id}%22}}"
              basic_auth_users: {alice: "\(Self.pythonHash)"}
            targets:
              - name: a
                url: http://127.0.0.1:1/
            """)
        XCTAssertEqual(config.admin.history, 30)
        XCTAssertEqual(config.admin.groupBy, "team")
        XCTAssertEqual(config.admin.traceURL, "http://grafana.example/explore?panes={%22a%22:{%22query%22:%22{trace_id}%22}}")
        XCTAssertEqual(config.admin.basicAuthUsers, ["alice": Self.pythonHash])
        XCTAssertNil(config.admin.tls)
        XCTAssertEqual(try ConfigFixture.parse("targets: [{name: a, url: \"http://127.0.0.1:1/\"}]").admin.history, 120)
    }

    /// The daemon serves its admin endpoints with `admin.tls` and `admin.basic_auth_users` as configured.
    func testDaemonServesTheAdminEndpointsOverTLSWithBasicAuth() async throws {
        let server = try SelfSignedCertificate.make()
        let client = try SelfSignedCertificate.make()
        defer { server.remove(); client.remove() }
        let agent = try RunningAgent(config: """
            admin:
              listen: {admin}
              basic_auth_users: {alice: "\(Self.pythonHash)"}
              tls: {cert_file: \(server.certFile), key_file: \(server.keyFile), client_ca_file: \(client.certFile)}
            targets:
              - {name: a, kind: http, url: "http://127.0.0.1:\(try freeLoopbackPort())/"}
            """)
        let https = agent.adminURL.replacingOccurrences(of: "http://", with: "https://")
        func get(_ path: String, certificate: SelfSignedCertificate?, password: String?) async -> Int? {
            var request = HTTPRequest(url: https + path, timeout: .seconds(5))
            request.tls = TLSOptions(caFile: server.certFile, clientCertFile: certificate?.certFile, clientKeyFile: certificate?.keyFile)
            if let password { request.headers.add("Authorization", "Basic " + Data("alice:\(password)".utf8).base64EncodedString()) }
            return try? await HTTPClient.shared.execute(request).status
        }
        try await agent.waitFor("the admin listener") { await get("/healthz", certificate: client, password: nil) == 200 }
        let withoutCertificate = await get("/status", certificate: nil, password: Self.password)
        XCTAssertNil(withoutCertificate, "no client certificate: no answer at all")
        let withoutPassword = await get("/status", certificate: client, password: nil)
        XCTAssertEqual(withoutPassword, 401)
        let wrongPassword = await get("/", certificate: client, password: "nope")
        XCTAssertEqual(wrongPassword, 401)
        let right = await get("/", certificate: client, password: Self.password)
        XCTAssertEqual(right, 200)
    }
}
