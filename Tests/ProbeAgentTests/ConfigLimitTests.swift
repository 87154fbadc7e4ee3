import Foundation
import XCTest
@testable import ProbeAgent

/// Hostile or careless values: every one is an error with file:line:column and field, never a
/// trap, a stall or a hang.
final class ConfigLimitTests: XCTestCase {
    static func target(_ extra: String) -> String {
        "targets:\n  - name: a\n    url: http://127.0.0.1/mcp\n" + extra
    }

    func testHugeDurationsAreErrorsInEveryField() {
        let errors = ConfigFixture.errors("""
            defaults: {interval: 10000000000s, timeout: 1e9s}
            exporter: {timeout: 99999999999999999999h}
            discovery: {contextforge: {url: "http://gw.example.com", token: t, interval: 25h}}
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                timeout: 10000000000000000000000000ms
                failing_interval: -1s
            """)
        XCTAssertEqual(errors, [
            "agent.yaml:1:22: defaults.interval: \"10000000000s\" is too long (at most 24h)",
            "agent.yaml:1:45: defaults.timeout: \"1e9s\" is not a duration (expected e.g. 30s, 500ms, 1m)",
            "agent.yaml:2:21: exporter.timeout: \"99999999999999999999h\" is too long (at most 24h)",
            "agent.yaml:3:78: discovery.contextforge.interval: \"25h\" is too long (at most 24h)",
            "agent.yaml:7:14: targets[0].timeout: \"10000000000000000000000000ms\" is too long (at most 24h)",
            "agent.yaml:8:23: targets[0].failing_interval: \"-1s\" must be greater than 0",
        ])
        XCTAssertEqual(ConfigFixture.errors("defaults: {interval: 24h, timeout: 1439m}\n" + Self.target("")), [])
    }

    func testDurationText() {
        let table: [(String, Result<Duration, DurationText.Problem>)] = [
            ("1.5s", .success(.milliseconds(1500))), ("24h", .success(.seconds(86400))), ("86400s", .success(.seconds(86400))),
            ("86400.001s", .failure(.tooLong(.seconds(86400)))), ("1e3s", .failure(.malformed)), ("inf", .failure(.malformed)),
            ("0s", .failure(.notPositive)), ("-1s", .failure(.notPositive)), ("0.0000000001s", .failure(.notPositive)),
            ("--1s", .failure(.malformed)), ("s", .failure(.malformed)), ("٣s", .failure(.malformed)),
        ]
        for (text, expected) in table {
            XCTAssertEqual(DurationText.parse(text), expected, text)
        }
    }

    func testCountsAndPortsAreBounded() {
        let errors = ConfigFixture.errors("""
            admin: {listen: "127.0.0.1:99999999999999999999"}
            shard: 0/100000000000000000000
            scheduler: {max_concurrency: 99999999999999999999}
            defaults: {failure_threshold: 10001, success_threshold: -1}
            targets:
              - {name: a, url: "http://127.0.0.1/mcp"}
            """)
        XCTAssertEqual(errors, [
            "agent.yaml:1:17: admin.listen: \"127.0.0.1:99999999999999999999\": port 99999999999999999999 is out of range (expected 0 to 65535)",
            "agent.yaml:2:8: shard: \"0/100000000000000000000\" is not a shard (expected i/n with 0 <= i < n <= 1000, e.g. 0/3)",
            "agent.yaml:3:30: scheduler.max_concurrency: \"99999999999999999999\" is out of range (expected 1 to 10000)",
            "agent.yaml:4:31: defaults.failure_threshold: 10001 is out of range (expected 1 to 10000)",
            "agent.yaml:4:57: defaults.success_threshold: -1 is out of range (expected 1 to 10000)",
        ])
        XCTAssertEqual(Shard.parse("999/1000"), Shard(index: 999, count: 1000))
        XCTAssertNil(Shard.parse("0/1001"))
    }

    /// Billion laughs in tool-call arguments: nine lists of nine aliases of the list before.
    static let aliasBomb: String = {
        var lines = [target("    mcp:\n      deep:\n        tool_call:\n          name: t\n          arguments:")]
        lines.append("            a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]")
        for (previous, name) in zip("abcdefgh", "bcdefghi") {
            lines.append("            \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    func testAliasBombIsRejectedWithinASecond() {
        XCTAssertLessThan(Self.aliasBomb.utf8.count, 700)
        let start = ContinuousClock.now
        let errors = ConfigFixture.errors(Self.aliasBomb)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        XCTAssertEqual(errors, [
            "agent.yaml:15:20: targets[0].mcp.deep.tool_call.arguments.g[0]: the document has more than 1000000 nodes "
                + "with its aliases expanded (aliases of aliases multiply)",
        ])
    }

    /// Aliases as mapping keys: Yams hashes every key while it builds the tree.
    func testAliasBombAsMappingKeysIsRejectedWithinASecond() {
        var lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for (previous, name) in zip("abcdefgh", "bcdefghi") {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        lines.append("z: {? *i : 1}")
        let start = ContinuousClock.now
        let errors = ConfigFixture.errors(lines.joined(separator: "\n"))
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        XCTAssertEqual(errors, ["agent.yaml:7:8: g[0]: the document has more than 1000000 nodes with its aliases expanded (aliases of aliases multiply)"])
    }

    func testSharedAnchorsAndMergeKeysStillWork() throws {
        let config = try ConfigFixture.parse("""
            defaults: &common {interval: 5s, timeout: 1s}
            targets:
              - {<<: *common, name: a, url: "http://127.0.0.1/a", labels: &labels {team: a}}
              - {<<: *common, name: b, url: "http://127.0.0.1/b", labels: *labels}
            """)
        XCTAssertEqual(config.targets.map(\.interval), [.seconds(5), .seconds(5)])
        XCTAssertEqual(config.targets.map(\.target.labels), [["team": "a"], ["team": "a"]])
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let errors = ConfigFixture.errors(Self.target("    mcp: {deep: {tool_call: {name: t, arguments: {x: \(deep)}}}}"))
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors.first?.hasPrefix("agent.yaml:4:111: targets[0].mcp.deep.tool_call.arguments.x[0][0]") == true, "\(errors)")
        XCTAssertTrue(errors.first?.hasSuffix(": nested more than 64 levels deep") == true, "\(errors)")
        let flow = String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)
        XCTAssertEqual(ConfigFixture.errors("targets: \(flow)"),
                       ["agent.yaml:1:11: invalid YAML: nested more than 64 levels deep (while parsing at line 1)"])
    }

    /// A huge mapping merged into a target: merge keys are applied in linear time.
    func testMergingAHugeMappingIsLinear() {
        let keys = (0..<20_000).map { "k\($0): 1" }.joined(separator: ", ")
        let start = ContinuousClock.now
        let errors = ConfigFixture.errors("big: &big {\(keys)}\n" + Self.target("    <<: [*big, *big]\n"))
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(10))
        XCTAssertEqual(errors.count, 20_001, "big itself, and each merged key")
    }

    func testAThousandErrorsPrintAHundredAndACount() {
        let yaml = (0..<1000).map { "k\($0): 1" }.joined(separator: "\n")
        XCTAssertThrowsError(try ConfigFixture.parse(yaml)) { error in
            let lines = (error as? ConfigErrors)?.description.split(separator: "\n") ?? []
            XCTAssertEqual(lines.count, 101)
            XCTAssertEqual(lines.last, "… and 901 more errors")
        }
    }

    func testAHugeUnknownKeyIsQuick() {
        let key = String(repeating: "x", count: 1 << 20)
        let start = ContinuousClock.now
        let errors = ConfigFixture.errors(Self.target("    ? \(key)\n    : 1\n"))  // an explicit key: no 1024-character limit
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors.first?.hasSuffix("unknown field (expected one of: name, url, kind, transport, interval, timeout, "
            + "failure_threshold, success_threshold, failing_interval, labels, headers, auth, tls, mcp, http, restart_detection)") == true,
            String(errors.first?.suffix(300) ?? ""))
    }

    func testControlCharactersInHeadersTokensAndLabelsAreRejected() {
        let errors = ConfigFixture.errors("""
            exporter: {headers: {authorization: "Bearer x\\r\\ny"}}
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                headers: {X-A: "a\\r\\nb", X-B: "a\\u0000b", X-Tab: "a\\tb", "X\\r\\nC": v}
                auth: {type: bearer, token: "t\\r\\n"}
              - name: b
                url: http://127.0.0.1/mcp
                auth: {type: bearer, token_file: /t}
                labels: {team: "a\\r\\nprobe_success 1"}
            """, files: ["/t": "line1\r\nline2\n"])
        XCTAssertEqual(errors, [
            "agent.yaml:1:37: exporter.headers.authorization: must not contain line breaks or other control characters",
            "agent.yaml:5:20: targets[0].headers.X-A: must not contain line breaks or other control characters",
            "agent.yaml:5:35: targets[0].headers.X-B: must not contain line breaks or other control characters",
            "agent.yaml:5:72: targets[0].headers[\"X\\r\\nC\"]: \"X\\r\\nC\" is not an HTTP header name",
            "agent.yaml:6:33: targets[0].auth.token: must not contain line breaks or other control characters",
            "agent.yaml:9:38: targets[1].auth.token_file: /t: must not contain line breaks or other control characters",
            "agent.yaml:10:20: targets[1].labels.team: must not contain line breaks or other control characters",
        ])
    }

    func testURLsThatLibcurlRefusesAreErrors() {
        let errors = ConfigFixture.errors("""
            targets:
              - {name: a, url: "http://127.0.0.1/a b"}
              - {name: b, url: "http://127.0.0.1/\\u0007"}
              - {name: c, url: "http://127.0.0.1/a%20b?q=1#f"}
            """)
        XCTAssertEqual(errors, [
            "agent.yaml:2:20: targets[0].url: \"http://127.0.0.1/a b\" is not an http:// or https:// URL with a host (spaces and control characters must be percent-encoded)",
            "agent.yaml:3:20: targets[1].url: \"http://127.0.0.1/?\" is not an http:// or https:// URL with a host (spaces and control characters must be percent-encoded)",
        ])
    }

    /// A `#` before the userinfo's `@`: libcurl probed host `probe` (the `#` ends the host for it),
    /// while `url.full` and every log line showed the host after the `@`.
    func testHashBeforeTheUserinfoAtIsAnError() {
        let errors = ConfigFixture.errors("""
            targets:
              - {name: a, url: "http://probe#1@mcp.example.com/mcp"}
              - {name: b, url: "http://probe%231@mcp.example.com/mcp#frag@x"}
            """)
        XCTAssertEqual(errors, [
            "agent.yaml:2:20: targets[0].url: \"http://REDACTED:REDACTED@mcp.example.com/mcp\" is not an http:// or https:// URL with a host (a '#' in the userinfo must be percent-encoded as %23)",
        ])
    }

    /// libyaml refuses control characters; the position is right with CRLF lines and multi-byte text.
    func testControlCharacterInTheFileIsLocated() {
        let yaml = "targets:\r\n  - name: a\r\n    labels: {team: \"caf\u{E9}\u{1}\"}\r\n"
        XCTAssertEqual(ConfigFixture.errors(yaml), ["agent.yaml:3:25: invalid YAML: control characters are not allowed"])
    }

    /// Yams reads `1:0:0:…` as a base-60 integer and overflows; such an argument stays text.
    func testSexagesimalToolArgumentIsText() throws {
        let config = try ConfigFixture.parse(Self.target("""
                mcp: {deep: {tool_call: {name: t, arguments: {big: 1:0:0:0:0:0:0:0:0:0:0:0:0, n: 0x1F}}}}
            """))
        guard case .mcp(let options) = config.targets[0].target.kind else { return XCTFail("kind") }
        XCTAssertEqual(options.deep?.toolCall?.argumentsJSON, #"{"big":"1:0:0:0:0:0:0:0:0:0:0:0:0","n":31}"#)
    }
}

/// Files the config names, and the config file itself, read by `TextFile`.
final class ConfigFileReadTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func loadErrors(_ path: String) -> [String] {
        do {
            _ = try ConfigLoader.load(path: path, environment: [:])
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    func testNonUTF8ConfigNamesTheByte() throws {
        let path = directory.appendingPathComponent("latin1.yaml").path
        let yaml = ConfigLimitTests.target("    labels: {team: caf")
        try Data((yaml + "\u{E9}}\n").utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(loadErrors(path), [])  // UTF-8 é is fine…
        try (Data(yaml.utf8) + [0xE9] + Data("}\n".utf8)).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(loadErrors(path), ["\(path):4:23: cannot read the config file (not UTF-8 text)"])
    }

    func testDevicesFIFOsDirectoriesAndHugeFilesAreNamed() throws {
        let fifo = directory.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let huge = directory.appendingPathComponent("huge.yaml").path
        try Data(repeating: UInt8(ascii: "#"), count: (4 << 20) + 1).write(to: URL(fileURLWithPath: huge))
        let table = [
            ("/dev/zero", "a device, not a regular file"), (fifo, "a FIFO, not a regular file"),
            (directory.path, "a directory, not a regular file"), (huge, "larger than 4 MiB"),
            (directory.appendingPathComponent("missing.yaml").path, "no such file"),
        ]
        for (path, reason) in table {
            XCTAssertEqual(loadErrors(path), ["\(path): cannot read the config file (\(reason))"])
        }
    }

    func testSecretFilesAreReadTheSameWay() throws {
        let config = directory.appendingPathComponent("agent.yaml").path
        try Self.target(tokenFile: "/dev/zero").write(toFile: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(loadErrors(config), ["\(config):5:34: targets[0].auth.token_file: cannot read /dev/zero (a device, not a regular file)"])
    }

    static func target(tokenFile: String) -> String {
        "targets:\n  - name: a\n    url: http://127.0.0.1/mcp\n    auth:\n      {type: bearer, token_file: \(tokenFile)}\n"
    }
}
