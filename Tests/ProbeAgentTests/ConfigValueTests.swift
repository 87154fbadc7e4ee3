import XCTest
@testable import ProbeAgent

/// The small parsers the loader is built from.
final class ConfigValueTests: XCTestCase {
    func testEnvInterpolation() {
        let env = ["A": "1", "B_2": "two", "EMPTY": ""]
        let table: [(String, Result<String, EnvInterpolation.Failure>)] = [
            ("plain", .success("plain")), ("${A}", .success("1")), ("x-${A}-${B_2}-y", .success("x-1-two-y")),
            ("$${A}", .success("${A}")), ("$A {A}", .success("$A {A}")), ("${MISSING}", .failure(.unset("MISSING"))),
            ("${EMPTY}", .failure(.empty("EMPTY"))), ("${A", .failure(.unterminated)), ("${1A}", .failure(.invalidName)),
            ("${}", .failure(.invalidName)), ("${A B}", .failure(.invalidName)),
        ]
        for (text, expected) in table {
            XCTAssertEqual(EnvInterpolation.expand(text, environment: env), expected, text)
        }
    }

    func testKeySuggestion() {
        let keys = TargetDecoder.keys
        XCTAssertEqual(KeySuggestion.nearest(to: "intervall", among: keys), "interval")
        XCTAssertEqual(KeySuggestion.nearest(to: "timout", among: keys), "timeout")
        XCTAssertEqual(KeySuggestion.nearest(to: "lables", among: keys), "labels")
        XCTAssertEqual(KeySuggestion.nearest(to: "URL", among: keys), "url")
        XCTAssertEqual(KeySuggestion.nearest(to: "failure-threshold", among: keys), "failure_threshold")
        XCTAssertNil(KeySuggestion.nearest(to: "colour", among: keys))
    }

    func testListenAddress() {
        let table: [(String, ListenAddress?)] = [
            ("127.0.0.1:9464", ListenAddress(host: "127.0.0.1", port: 9464)), ("[::1]:80", ListenAddress(host: "::1", port: 80)),
            ("localhost:0", ListenAddress(host: "localhost", port: 0)), ("0.0.0.0:65535", ListenAddress(host: "0.0.0.0", port: 65535)),
            ("::1:9464", nil), (":9464", nil), ("127.0.0.1", nil), ("127.0.0.1:65536", nil), ("[127.0.0.1]:80", nil), ("a b:1", nil),
        ]
        for (text, expected) in table {
            XCTAssertEqual(ListenAddress(text), expected, text)
        }
        XCTAssertEqual(ListenAddress(host: "::1", port: 9464).description, "[::1]:9464")
    }

    func testDurationConfigText() {
        XCTAssertEqual(Duration.seconds(30).configText, "30s")
        XCTAssertEqual(Duration.milliseconds(1500).configText, "1500ms")
        XCTAssertEqual(Duration.seconds(120).configText, "2m")
        XCTAssertEqual(Duration.seconds(7200).configText, "2h")
    }
}
