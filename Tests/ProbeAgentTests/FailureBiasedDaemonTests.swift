import Foundation
import TestSupport
import XCTest

/// `exporter.sampling.mode: failure_biased` in the daemon: the agent hands Tracing's sampler its
/// rule (`ProbeTraceRule`), so every failing probe and every state change is kept, and with
/// ratio 0 nothing else.
final class FailureBiasedDaemonTests: XCTestCase {
    func testFailingProbesAndStateChangesAreKeptTheRestSampledOut() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let closed = try freeLoopbackPort()
        let spans = ProbeSpanFile()
        let agent = try RunningAgent(config: """
            admin:
              listen: {admin}
            log_level: info
            defaults: {interval: 1s, timeout: 800ms, failure_threshold: 100}
            exporter:
              file: \(spans.path)
              sampling: {mode: failure_biased, ratio: 0}
            targets:
              - name: steady
                url: \(mcp.baseURL)/mcp
              - name: down
                url: http://127.0.0.1:\(closed)/mcp
            """, environment: ["OTEL_BSP_SCHEDULE_DELAY": "100"])
        try await agent.waitFor("four probes of each target") {
            let status = (try? await agent.status()) ?? [:]
            return (status["down"]?["consecutive_failures"] as? Int ?? 0) >= 4
        }
        try await Task.sleep(for: .milliseconds(500))  // the last batch reaches the file
        let down = spans.probes(of: "down")
        XCTAssertGreaterThanOrEqual(down.count, 4, "every failing probe is kept")
        let steady = spans.probes(of: "steady")
        XCTAssertEqual(steady.count, 1, "only the steady target's first probe (unknown → up) is kept")
        XCTAssertEqual(steady.first?.events("health.state_change").count, 1)
        withExtendedLifetime(agent) {}
    }
}
