import Foundation
import HTTPClient
import TestSupport
import XCTest

/// A fixture serving HTTPS with a fresh self-signed certificate for 127.0.0.1.
struct TLSFixture {
    var server: FixtureServer
    var directory: URL
    var certFile: String { directory.appendingPathComponent("cert.pem").path }

    static func start() throws -> TLSFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-client-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=127.0.0.1",
                     "-addext", "subjectAltName=IP:127.0.0.1"])
        let server = try FixtureServer(script: "http_server.py", args: ["{port}", "--tls", cert, key])
        return TLSFixture(server: server, directory: directory)
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    var baseURL: String { "https://127.0.0.1:\(server.port)" }

    /// The certificate's notAfter as `openssl x509 -enddate` prints it.
    func opensslEndDate() throws -> String {
        let output = try Self.openssl(["x509", "-enddate", "-noout", "-in", certFile])
        return output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "notAfter=", with: "")
    }

    @discardableResult
    static func openssl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureError("openssl \(arguments.first ?? "") failed") }
        return String(decoding: output, as: UTF8.self)
    }
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
