import Foundation
import TestSupport
import XCTest

/// Restart signals that can never fire, or that another signal shadows, load with a warning:
/// `validate` prints it with file:line:column and still exits 0; `run` logs it at start and reload.
final class ConfigWarningTests: XCTestCase {
    static let yaml = """
        admin:
          listen: {admin}
        targets:
          - name: head-check
            kind: http
            url: http://127.0.0.1:1/healthz
            http: {method: HEAD}
            restart_detection:
              - json_field: started_at
              - header: X-Instance-Id
              - {json_field: started_at, url: "http://127.0.0.1:1/version"}
          - name: twice
            url: http://127.0.0.1:1/mcp
            restart_detection:
              - header: X-Instance-Id
              - header: x-instance-id
              - {json_field: runtime.pod_id, url: "http://127.0.0.1:1/version"}
              - {json_field: runtime.pod_id, url: "http://127.0.0.1:1/version", mode: decreases}
              - json_field: runtime.pod_id
          - name: own-url
            kind: http
            url: http://127.0.0.1:1/health
            restart_detection:
              - {json_field: uptime_seconds, url: "http://127.0.0.1:1/health", mode: decreases}
        """

    static func expectedWarnings(_ path: String) -> [String] {
        [
            "warning: \(path):9:21: targets[0].restart_detection[0].json_field: never fires: a HEAD request gets no body "
                + "(give url: to read another document, or use a header)",
            "warning: \(path):16:17: targets[1].restart_detection[1].header: reads the same header as restart_detection[0] "
                + "(line 15), which it shadows; keep one",
            "warning: \(path):18:22: targets[1].restart_detection[3].json_field: reads the same JSON field as "
                + "restart_detection[2] (line 17), which it shadows; keep one",
            "warning: \(path):24:43: targets[2].restart_detection[0].url: is the target's own url: leave it out, so the "
                + "probe's own answer is read without a second request",
        ]
    }

    func testValidatePrintsEachWarningAndExitsZero() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("warnings-\(UUID().uuidString).yaml").path
        try Self.yaml.replacingOccurrences(of: "{admin}", with: "127.0.0.1:0").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try AgentBinary.run(["validate", "--config", path], timeout: 10)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").map(String.init), Self.expectedWarnings(path))
        XCTAssertEqual(result.stdout, "\(path): OK — 3 targets (1 MCP, 2 HTTP)\n")
    }

    func testRunLogsTheWarningsAtStartAndReload() async throws {
        let agent = try RunningAgent(config: Self.yaml)
        let warnings = Self.expectedWarnings(agent.configPath).map { $0.replacingOccurrences(of: "warning: ", with: "") }
        for warning in warnings { try await agent.waitForLog(warning) }
        agent.signal(SIGHUP)
        try await agent.waitFor("the reload's warnings") {
            warnings.allSatisfy { warning in agent.log.components(separatedBy: warning).count == 3 }
        }
        let lines = agent.log.split(separator: "\n").filter { $0.contains(warnings[0]) }
        XCTAssertTrue(lines.allSatisfy { $0.contains(" warning ") }, "logged at warning level: \(lines)")
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), agent.log)
    }
}
