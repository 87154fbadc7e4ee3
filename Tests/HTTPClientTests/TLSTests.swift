import Foundation
import HTTPClient
import TestSupport
import XCTest

/// A fixture serving HTTPS with a fresh self-signed certificate for 127.0.0.1.
struct TLSFixture {
    var server: FixtureServer
    var certificate: SelfSignedCertificate
    var certFile: String { certificate.certFile }
    var baseURL: String { "https://127.0.0.1:\(server.port)" }

    static func start() throws -> TLSFixture {
        let certificate = try SelfSignedCertificate.make()
        let server = try FixtureServer(script: "http_server.py", args: ["{port}", "--tls", certificate.certFile, certificate.keyFile])
        return TLSFixture(server: server, certificate: certificate)
    }

    func stop() {
        server.stop()
        certificate.remove()
    }

    func opensslEndDate() throws -> String { try certificate.opensslEndDate() }
}

final class TLSTests: XCTestCase {
    static let fixture = SharedFixture(make: { try TLSFixture.start() }, stop: { $0.stop() })
    var client: HTTPClient!
    var tls: TLSFixture!

    override class func tearDown() {
        fixture.stop()
        super.tearDown()
    }

    override func setUpWithError() throws {
        tls = try Self.fixture.get()
        client = HTTPClient()
    }

    override func tearDown() {
        client.shutdown()
        client = nil
    }

    func testSelfSignedCertificateIsRejectedByDefault() async throws {
        let error = await client.failure(HTTPRequest(url: "\(tls.baseURL)/status/200"))
        XCTAssertEqual(error?.kind, .certificateInvalid, error?.description ?? "")
        XCTAssertEqual(error?.curlCode, 60)
        XCTAssertGreaterThan(error?.timings.total ?? .zero, .zero)
    }

    func testTrustedCAFilePassesAndTimesTheHandshake() async throws {
        var request = HTTPRequest(url: "\(tls.baseURL)/status/200")
        request.tls.caFile = tls.certFile
        request.freshConnection = true
        let response = try await client.execute(request)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, Array("status 200\n".utf8))
        XCTAssertNil(response.peerCertificate, "not asked for")
        let t = response.timings
        XCTAssertGreaterThan(t.appConnect, t.connect)
        XCTAssertLessThanOrEqual(t.appConnect, t.startTransfer)
        XCTAssertEqual(t.phases.map(\.name), ["resolve", "connect", "tls", "processing", "transfer"])
        XCTAssertGreaterThan(t.phases[2].duration, .zero)
    }

    func testVerifyPeerOffAcceptsAnyCertificate() async throws {
        var request = HTTPRequest(url: "\(tls.baseURL)/echo")
        request.tls.verifyPeer = false
        let response = try await client.execute(request)
        XCTAssertEqual(response.status, 200)
    }

    func testCapturedCertificateMatchesOpenSSL() async throws {
        var request = HTTPRequest(url: "\(tls.baseURL)/status/200")
        request.tls.caFile = tls.certFile
        // A first request leaves a pooled connection; capturing must still see a handshake.
        _ = try await client.execute(request)
        request.captureCertificate = true
        let response = try await client.execute(request)
        let certificate = try XCTUnwrap(response.peerCertificate)
        let expected = try XCTUnwrap(Self.parseOpenSSLDate(try tls.opensslEndDate()))
        XCTAssertEqual(certificate.notAfter, expected)
        let notBefore = try XCTUnwrap(certificate.notBefore)
        XCTAssertEqual(expected.timeIntervalSince(notBefore), 30 * 86_400, accuracy: 2)
        XCTAssertTrue(certificate.subject?.contains("127.0.0.1") ?? false, certificate.subject ?? "nil")
        XCTAssertEqual(certificate.subject, certificate.issuer, "self-signed")
    }

    func testStreamingOverTLS() async throws {
        var request = HTTPRequest(url: "\(tls.baseURL)/chunked/3")
        request.tls.caFile = tls.certFile
        let response = try await client.stream(request)
        var total = 0
        for try await chunk in response.body { total += chunk.count }
        XCTAssertEqual(total, 3 * 1024)
        XCTAssertGreaterThan(response.timings().appConnect, .zero)
    }

    /// "Jan  1 00:00:00 2030 GMT", independently of the client's parser.
    static func parseOpenSSLDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy zzz"
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return formatter.date(from: collapsed)
    }
}
