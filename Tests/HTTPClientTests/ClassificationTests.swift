import Foundation
import XCTest
@testable import HTTPClient
#if canImport(Glibc)
import Glibc
#endif

final class ClassificationTests: XCTestCase {
    /// Every CURLcode that maps to something other than `.other`, without an OS errno.
    static let mapped: [Int32: HTTPClientError.Kind] = [
        1: .malformedURL, 3: .malformedURL,
        5: .dns, 6: .dns,
        7: .connectionRefused,
        8: .invalidHTTP, 61: .invalidHTTP,
        16: .receiveFailed, 18: .receiveFailed, 56: .receiveFailed, 92: .receiveFailed,
        28: .timeout,
        35: .tls, 53: .tls, 54: .tls, 58: .tls, 59: .tls, 64: .tls, 66: .tls, 77: .tls, 80: .tls, 82: .tls, 98: .tls,
        60: .certificateInvalid, 83: .certificateInvalid, 90: .certificateInvalid, 91: .certificateInvalid,
        42: .cancelled,
        47: .tooManyRedirects,
        52: .emptyReply,
        55: .sendFailed, 65: .sendFailed,
        63: .responseTooLarge, 100: .responseHeadersTooLarge,
    ]

    func testEveryCurlCodeWithoutErrno() {
        // CURL_LAST is 100 in 7.88; a few past it check the default.
        for code in Int32(0)...105 {
            XCTAssertEqual(classifyCurlError(code: code, osErrno: 0), Self.mapped[code] ?? .other, "CURLcode \(code)")
        }
    }

    func testErrnoRefinesConnectSendAndReceive() {
        let table: [(code: Int32, errno: Int32, kind: HTTPClientError.Kind)] = [
            (7, ECONNREFUSED, .connectionRefused),
            (7, ECONNRESET, .connectionReset),
            (7, ETIMEDOUT, .timeout),
            (7, ENETUNREACH, .other),
            (7, EHOSTUNREACH, .other),
            (7, EADDRNOTAVAIL, .other),
            (55, ECONNRESET, .connectionReset),
            (55, EPIPE, .connectionReset),
            (55, ENOBUFS, .sendFailed),
            (56, ECONNRESET, .connectionReset),
            (56, ETIMEDOUT, .receiveFailed),
            (18, ECONNRESET, .connectionReset),
            (35, ECONNRESET, .connectionReset),
            (35, EPIPE, .tls),
            (60, ECONNRESET, .certificateInvalid),
            (28, ETIMEDOUT, .timeout),
            (6, ECONNREFUSED, .dns),
            (52, ECONNRESET, .emptyReply),
        ]
        for row in table {
            XCTAssertEqual(classifyCurlError(code: row.code, osErrno: row.errno), row.kind, "CURLcode \(row.code), errno \(row.errno)")
        }
    }

    /// Codes by which libcurl says the server answered but broke HTTP or a size limit: never a
    /// connection failure, whatever errno the transfer left behind.
    func testAnswersBreakingHTTPOrALimitAreNotConnectionFailures() {
        let table: [(code: Int32, errno: Int32, kind: String)] = [
            (8, 0, "invalid_http"),           // WEIRD_SERVER_REPLY
            (8, ECONNRESET, "invalid_http"),
            (61, 0, "invalid_http"),          // BAD_CONTENT_ENCODING
            (100, 0, "response_headers_too_large"),  // TOO_LARGE (libcurl 8.6+: a header line or count over its limits)
        ]
        for row in table {
            XCTAssertEqual(classifyCurlError(code: row.code, osErrno: row.errno).rawValue, row.kind, "CURLcode \(row.code), errno \(row.errno)")
        }
    }

    func testKindRawValuesAreSnakeCase() {
        XCTAssertEqual(HTTPClientError.Kind.connectionRefused.rawValue, "connection_refused")
        XCTAssertEqual(HTTPClientError.Kind.responseTooLarge.rawValue, "response_too_large")
        XCTAssertEqual(HTTPClientError.Kind.certificateInvalid.rawValue, "certificate_invalid")
    }

    func testErrorDescriptionNamesKindAndCode() {
        let error = HTTPClientError(kind: .timeout, curlCode: 28, message: "Timeout was reached", partialStatus: 200)
        XCTAssertEqual(error.description, "timeout: Timeout was reached (curl 28) after status 200")
    }
}

final class ValueTypeTests: XCTestCase {
    func testHeadersKeepOrderAndIgnoreCase() {
        var headers = HTTPHeaders([HTTPHeader("Content-Type", "text/plain")])
        headers.add("Set-Cookie", "a=1")
        headers.add("set-cookie", "b=2")
        XCTAssertEqual(headers["content-type"], "text/plain")
        XCTAssertEqual(headers["SET-COOKIE"], "a=1")
        XCTAssertEqual(headers.values("Set-Cookie"), ["a=1", "b=2"])
        XCTAssertNil(headers["Content-Typf"])
        XCTAssertNil(headers["Content-Typ"])
        XCTAssertEqual(headers.map(\.name), ["Content-Type", "Set-Cookie", "set-cookie"])
        XCTAssertEqual(headers.count, 3)
        XCTAssertFalse(headers.isEmpty)
        XCTAssertTrue(HTTPHeaders().isEmpty)
    }

    func testHeaderLookupDoesNotFoldNonLetters() {
        // '@' | 0x20 == '`': case folding must apply to letters only.
        let headers = HTTPHeaders([HTTPHeader("x@", "1")])
        XCTAssertNil(headers["x`"])
    }

    func testPhasesFollowBlackboxExporterNames() {
        let t = PhaseTimings(nameLookup: .milliseconds(2), connect: .milliseconds(5), appConnect: .milliseconds(15),
                             preTransfer: .milliseconds(16), startTransfer: .milliseconds(40), total: .milliseconds(45))
        XCTAssertEqual(t.phases.map(\.name), ["resolve", "connect", "tls", "processing", "transfer"])
        XCTAssertEqual(t.phases.map(\.duration), [.milliseconds(2), .milliseconds(3), .milliseconds(10), .milliseconds(24), .milliseconds(5)])
    }

    func testPhasesWithoutTLSAndNeverNegative() {
        // A failed transfer: connect recorded, no first byte.
        let t = PhaseTimings(nameLookup: .milliseconds(1), connect: .milliseconds(3), preTransfer: .milliseconds(4), total: .milliseconds(500))
        XCTAssertEqual(t.phases.map(\.name), ["resolve", "connect", "processing", "transfer"])
        XCTAssertEqual(t.phases.map(\.duration), [.milliseconds(1), .milliseconds(2), .zero, .milliseconds(500)])
        XCTAssertTrue(PhaseTimings.zero.phases.allSatisfy { $0.duration == .zero })
    }

    func testCertificateDatesInOpenSSLAndISOForms() {
        XCTAssertEqual(PeerCertificate.parseDate("Jan  1 00:00:00 2030 GMT"), Date(timeIntervalSince1970: 1_893_456_000))
        XCTAssertEqual(PeerCertificate.parseDate("Feb 29 12:34:56 2028 GMT"), Date(timeIntervalSince1970: 1_835_440_496))
        XCTAssertEqual(PeerCertificate.parseDate("2030-01-01 00:00:00 GMT"), Date(timeIntervalSince1970: 1_893_456_000))
        XCTAssertNil(PeerCertificate.parseDate("Foo 1 00:00:00 2030 GMT"))
        XCTAssertNil(PeerCertificate.parseDate(""))
    }

    func testCertificateFromCertInfoLines() {
        let cert = PeerCertificate(certInfoLines: [
            "Subject:CN = 127.0.0.1", "Issuer:CN = 127.0.0.1", "Version:2",
            "Start date:Dec 31 23:59:59 2029 GMT", "Expire date:Jan  1 00:00:00 2030 GMT",
        ])
        XCTAssertEqual(cert.subject, "CN = 127.0.0.1")
        XCTAssertEqual(cert.issuer, "CN = 127.0.0.1")
        XCTAssertEqual(cert.notBefore, Date(timeIntervalSince1970: 1_893_455_999))
        XCTAssertEqual(cert.notAfter, Date(timeIntervalSince1970: 1_893_456_000))
    }

    func testRequestDefaults() {
        let request = HTTPRequest(url: "http://127.0.0.1/")
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.timeout, .seconds(10))
        XCTAssertEqual(request.maxResponseBodyBytes, 1 << 20)
        XCTAssertFalse(request.followRedirects)
        XCTAssertFalse(request.freshConnection)
        XCTAssertFalse(request.captureCertificate)
        XCTAssertNil(request.acceptEncoding)
        XCTAssertEqual(request.tls, TLSOptions())
        XCTAssertTrue(request.tls.verifyPeer)
    }

    func testReservedInvalidHostNames() {
        for host in ["invalid", "x.invalid", "a.b.INVALID", "x.invalid."] { XCTAssertTrue(HTTPURL.isReservedInvalid(host: host), host) }
        for host in ["invalid.example", "127.0.0.1", "xinvalid", "localhost"] { XCTAssertFalse(HTTPURL.isReservedInvalid(host: host), host) }
    }
}
