import Foundation
import TestSupport
import XCTest

/// The bounds on user input as a user meets them: `validate`, `check` and a running daemon's
/// SIGHUP. A bad value is exit status 2 with a message, never a trap, a stall or a hang.
final class InputLimitCommandTests: XCTestCase {
    func configFile(_ contents: Data) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(UUID().uuidString).yaml").path
        try contents.write(to: URL(fileURLWithPath: path))
        return path
    }

    func configFile(_ text: String) throws -> String { try configFile(Data(text.utf8)) }

    func testValidateReportsBadInputWithExitTwo() throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("limits-fifo-\(UUID().uuidString)").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        defer { unlink(fifo) }
        let huge = try configFile(ConfigLimitTests.target("    interval: 10000000000s\n"))
        let crlf = try configFile(ConfigLimitTests.target("    headers: {X-A: \"a\\r\\nb\"}\n"))
        let latin1 = try configFile(Data("targets: caf".utf8) + [0xE9])
        let table: [(String, String)] = [
            (huge, "\(huge):4:15: targets[0].interval: \"10000000000s\" is too long (at most 24h)"),
            (crlf, "\(crlf):4:20: targets[0].headers.X-A: must not contain line breaks or other control characters"),
            (latin1, "\(latin1):1:13: cannot read the config file (not UTF-8 text)"),
            ("/dev/zero", "/dev/zero: cannot read the config file (a device, not a regular file)"),
            (fifo, "\(fifo): cannot read the config file (a FIFO, not a regular file)"),
        ]
        for (path, expected) in table {
            let result = try AgentBinary.run(["validate", "--config", path], timeout: 10)
            XCTAssertEqual(result.status, 2, "\(path): \(result.stderr)")
            XCTAssertEqual(result.stderr, expected + "\n")
        }
    }

    /// `validate` counts targets per shard: a huge n was an allocation of n counters.
    func testHugeShardCountsAreUsageErrors() throws {
        let good = try configFile(ConfigLimitTests.target(""))
        let flag = try AgentBinary.run(["validate", "--config", good, "--shard", "0/100000000000000"], timeout: 10)
        XCTAssertEqual(flag.status, 2, flag.stderr)
        XCTAssertEqual(flag.stderr.split(separator: "\n").first, "Error: --shard \"0/100000000000000\" is not i/n with 0 <= i < n <= 1000, e.g. 0/3")
        let env = try AgentBinary.run(["validate", "--config", good], environment: ["PROBE_AGENT_SHARD": "0/100000000000000"], timeout: 10)
        XCTAssertEqual(env.status, 2, env.stderr)
        XCTAssertEqual(env.stderr.split(separator: "\n").first,
                       "Error: PROBE_AGENT_SHARD=\"0/100000000000000\" is not i/n with 0 <= i < n <= 1000, e.g. 0/3")
    }

    func testValidateRejectsTheAliasBombWithinASecond() throws {
        let bomb = try configFile(ConfigLimitTests.aliasBomb)
        let start = Date()
        let result = try AgentBinary.run(["validate", "--config", bomb], timeout: 10)
        // The bound is the loader's (ConfigLimitTests); here it includes starting the process.
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("\(bomb):15:20: targets[0].mcp.deep.tool_call.arguments.g[0]: the document has more than"),
                      result.stderr)
    }

    func testCheckUsageErrorsExitTwoWithTheReason() throws {
        let url = "http://127.0.0.1:1/mcp"
        let table: [([String], String)] = [
            (["check", url, "--timeout", "10000000000s"], "Error: --timeout '10000000000s' is too long (at most 24h)"),
            (["check", url, "--timeout", "-1s"], "Error: --timeout '-1s' must be greater than 0"),
            (["check", "http://127.0.0.1:1/a b"],
             "Error: \"http://127.0.0.1:1/a b\" is not an http:// or https:// URL with a host (spaces and control characters must be percent-encoded)"),
            (["check", url, "--header", "X-A: a\r\nb"], "Error: --header: must not contain line breaks or other control characters"),
            (["check", url, "--header", "X A: b"], "Error: --header: \"X A\" is not an HTTP header name"),
            (["check", url, "--token", "t\n"], "Error: --token must not contain line breaks or other control characters"),
            (["check", url, "--token-file", "/dev/zero"], "Error: --token-file '/dev/zero' cannot be read (a device, not a regular file)"),
            (["check", url, "--otlp-endpoint", "http://127.0.0.1:4318/v1 x"],
             "Error: --otlp-endpoint \"http://127.0.0.1:4318/v1 x\" is not an http:// or https:// URL with a host (spaces and control characters must be percent-encoded)"),
            (["check", url, "--name", "a\r\nb"], "Error: --name \"a\\r\\nb\" is not a valid name (expected letters, digits, '.', '_', '-')"),
        ]
        for (arguments, expected) in table {
            let result = try AgentBinary.run(arguments, timeout: 10)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stdout) \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").first.map(String.init), expected, "\(arguments)")
            XCTAssertEqual(result.stderr.split(separator: "\n").dropFirst().first, "See 'probe-agent check --help' for more information.",
                           "a check error points at check's help, not the root command's usage: \(result.stderr)")
        }
    }

    /// SIGHUP with a huge duration, then with the alias bomb: each reload fails at once, the old
    /// config keeps probing, the reload gauge says 0, and SIGTERM afterwards exits promptly.
    func testReloadOfHostileConfigsKeepsTheDaemonProbing() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let good = """
            admin: {listen: "{admin}"}
            defaults: {interval: 500ms, timeout: 400ms}
            targets:
              - name: json
                url: \(mcp.baseURL)/mcp
            """
        let agent = try RunningAgent(config: good)
        func probes() async -> Int {
            let requests = (try? await fetchJSON(mcp.baseURL + "/_test/requests")) as? [[String: Any]] ?? []
            return requests.filter { $0["method"] as? String == "POST" }.count
        }
        func reloadGauge() async -> Double? {
            sample((try? await agent.get("/metrics").1) ?? "", "probe_agent_config_reload_success", labels: [:])
        }
        try await agent.waitFor("the first probe") { await probes() > 0 }

        try agent.rewriteConfig(good.replacingOccurrences(of: "interval: 500ms", with: "interval: 10000000000s"))
        agent.signal(SIGHUP)
        try await agent.waitFor("the reload to fail") { await reloadGauge() == 0 }
        XCTAssertTrue(agent.process.isRunning, agent.log)
        try await agent.waitForLog("config reload failed; keeping the running config")
        try await agent.waitForLog("is too long (at most 24h)")
        let before = await probes()
        try await agent.waitFor("probing on the old config") { await probes() >= before + 2 }

        try agent.rewriteConfig(good)
        agent.signal(SIGHUP)
        try await agent.waitFor("a good reload") { await reloadGauge() == 1 }

        try agent.rewriteConfig(ConfigLimitTests.aliasBomb)
        let signalled = ContinuousClock.now
        agent.signal(SIGHUP)
        try await agent.waitFor("the bomb to be rejected") { await reloadGauge() == 0 }
        // /metrics is polled every 200 ms: slack on top of the loader's bound (< 1 s).
        XCTAssertLessThan(ContinuousClock.now - signalled, .seconds(2))
        try await agent.waitForLog("the document has more than 1000000 nodes")
        let afterBomb = await probes()
        try await agent.waitFor("probing on the old config") { await probes() >= afterBomb + 2 }

        let stopping = Date()
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 10), "SIGTERM after the bomb:\n\(agent.log)")
        XCTAssertLessThan(Date().timeIntervalSince(stopping), 5)
        XCTAssertEqual(agent.process.terminationStatus, 0, agent.log)
    }
}
