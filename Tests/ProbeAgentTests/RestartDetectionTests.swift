import Foundation
import TestSupport
import XCTest

/// Restart detection with the real daemon against real peers that restart on the same port with
/// another identity: every kind, era and transport × every signal (header, a JSON field of the
/// probe's own answer, a JSON field of a bearer-protected document, an uptime that decreases).
final class RestartDetectionTests: XCTestCase {
    /// A peer kind, and where its answer carries the instance ID and the uptime (fixture_serving.Instance).
    struct PeerKind {
        let name: String
        let script: String
        let argsBeforePort: [String]
        let path: String
        /// The target's kind/transport line.
        let targetLine: String
        let instanceField: String
        let uptimeField: String
    }

    static let http = PeerKind(name: "http", script: "http_server.py", argsBeforePort: [], path: "/instance",
                               targetLine: "kind: http", instanceField: "instance", uptimeField: "uptime")
    // The SDK's default StreamableHTTP server: the initialize answer comes as an SSE event.
    static let streamable = PeerKind(name: "streamable_http", script: "mcp_server.py", argsBeforePort: ["sse"], path: "/mcp",
                                     targetLine: "transport: streamable_http",
                                     instanceField: "result.instructions", uptimeField: "result.instructions")
    static let modern = PeerKind(name: "2026 era", script: "mcp_modern_stub.py", argsBeforePort: [], path: "/mcp",
                                 targetLine: "transport: streamable_http",
                                 instanceField: "result._meta.instance", uptimeField: "result._meta.uptime")
    static let legacySSE = PeerKind(name: "legacy SSE", script: "mcp_server.py", argsBeforePort: ["legacy-sse"], path: "/sse",
                                    targetLine: "transport: sse",
                                    instanceField: "result.instructions", uptimeField: "result.instructions")

    static let token = "restart-doc-token"

    func testHTTPRestartIsSeenByEverySignal() async throws { try await checkEverySignal(Self.http) }
    func testStreamableHTTPRestartIsSeenByEverySignal() async throws { try await checkEverySignal(Self.streamable) }
    func testModernEraRestartIsSeenByEverySignal() async throws { try await checkEverySignal(Self.modern) }
    func testLegacySSERestartIsSeenByEverySignal() async throws { try await checkEverySignal(Self.legacySSE) }

    /// One daemon, one target per signal; the peers restart once with another instance and a
    /// smaller uptime. Each target: no `target.restart` before, exactly one after (with evidence),
    /// `probe_target_restarts_total` 0 then 1; the document was fetched with the target's bearer token.
    private func checkEverySignal(_ kind: PeerKind) async throws {
        // Two peers: for MCP servers the uptime takes the place of the instance in `instructions`.
        var idPeer = try FixtureServer(script: kind.script, args: kind.argsBeforePort + ["{port}", "--instance", "i-1", "--token", Self.token])
        var uptimePeer = try FixtureServer(script: kind.script, args: kind.argsBeforePort + ["{port}", "--instance", "u-1", "--uptime", "100"])
        defer { idPeer.stop(); uptimePeer.stop() }
        let document = idPeer.baseURL + "/_test/instance"
        let targets: [(name: String, lines: String)] = [
            ("header", """
                url: \(idPeer.baseURL)\(kind.path)
                restart_detection:
                  - header: X-Instance-Id
            """),
            ("json_field", """
                url: \(idPeer.baseURL)\(kind.path)
                restart_detection:
                  - json_field: \(kind.instanceField)
            """),
            ("json_field_url", """
                url: \(idPeer.baseURL)\(kind.path)
                auth: {type: bearer, token: \(Self.token)}
                restart_detection:
                  - json_field: instance
                    url: \(document)
            """),
            ("decreases", """
                url: \(uptimePeer.baseURL)\(kind.path)
                restart_detection:
                  - json_field: \(kind.uptimeField)
                    mode: decreases
            """),
        ]
        let spans = ProbeSpanFile()
        let agent = try RunningAgent(config: Self.config(spans: spans, failureThreshold: 10, targets: targets.map {
            "  - name: \($0.name)\n    \(kind.targetLine)\n\($0.lines)"
        }), environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        let names = targets.map(\.name)

        try await waitForSuccessfulProbes(2, of: names, in: spans, agent: agent, what: "\(kind.name): 2 successful probes before the restart")
        let before = try await agent.get("/metrics").1
        let restartedAt = unixNanosNow()
        idPeer = try idPeer.restarted(args: kind.argsBeforePort + ["{port}", "--instance", "i-2", "--token", Self.token])
        uptimePeer = try uptimePeer.restarted(args: kind.argsBeforePort + ["{port}", "--instance", "u-2", "--uptime", "5"])
        try await waitForSuccessfulProbes(2, of: names, in: spans, after: restartedAt, agent: agent,
                                          what: "\(kind.name): 2 successful probes after the restart")
        _ = await eventually(timeout: 5) {
            let metrics = (try? await agent.get("/metrics").1) ?? ""
            return names.allSatisfy { sample(metrics, "probe_target_restarts_total", labels: ["target": $0]) == 1 }
        }
        let after = try await agent.get("/metrics").1

        for name in names {
            let row = "\(kind.name) × \(name)"
            let probes = spans.probes(of: name)
            let earlier = probes.filter { $0.startNanos < restartedAt }.flatMap { $0.events("target.restart") }
            let later = probes.filter { $0.startNanos >= restartedAt }.flatMap { $0.events("target.restart") }
            XCTAssertEqual(earlier.count, 0, "\(row): no target.restart before the restart, got \(earlier)")
            XCTAssertEqual(later.count, 1, "\(row): exactly one target.restart after the restart, got \(later)")
            XCTAssertFalse((later.first?["evidence"] as? String ?? "").isEmpty, "\(row): the event says why: \(later)")
            XCTAssertEqual(sample(before, "probe_target_restarts_total", labels: ["target": name]), 0, "\(row): restarts before")
            XCTAssertEqual(sample(after, "probe_target_restarts_total", labels: ["target": name]), 1, "\(row): restarts after")
        }
        // The restarted peer counts from zero: every document GET it answered carried the token.
        let documentRequests = try await fetchJSON(idPeer.baseURL + "/_test/instance-stats") as? [String: Int] ?? [:]
        XCTAssertGreaterThan(documentRequests["authorized"] ?? 0, 0, "\(kind.name): the document was fetched with the bearer token: \(documentRequests)")
        XCTAssertEqual(documentRequests["refused"] ?? -1, 0, "\(kind.name): no document GET without the token: \(documentRequests)")
        stopAgent(agent)
    }

    /// `probe.target.restarts` counts restarts, not recoveries: a target that goes down and comes
    /// back with the same identity changed state twice and did not restart (as far as it shows).
    func testRecoveryWithoutAChangedMarkIsNotARestart() async throws {
        var httpPeer = try FixtureServer(script: "http_server.py", args: ["{port}", "--instance", "i-1"])
        var mcpPeer = try FixtureServer(script: "mcp_server.py", args: ["sse", "{port}", "--instance", "i-1"])
        defer { httpPeer.stop(); mcpPeer.stop() }
        let targets: [(name: String, lines: String)] = [
            ("http_header", """
                kind: http
                url: \(httpPeer.baseURL)/instance
                restart_detection:
                  - header: X-Instance-Id
            """),
            ("http_plain", "    kind: http\n    url: \(httpPeer.baseURL)/instance"),
            // Marked by mcp.server.version only.
            ("mcp_plain", "    transport: streamable_http\n    url: \(mcpPeer.baseURL)/mcp"),
        ]
        let spans = ProbeSpanFile()
        let agent = try RunningAgent(config: Self.config(spans: spans, failureThreshold: 1, targets: targets.map {
            "  - name: \($0.name)\n\($0.lines)"
        }), environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        let names = targets.map(\.name)

        try await waitForSuccessfulProbes(1, of: names, in: spans, agent: agent, what: "a successful probe of each target")
        httpPeer.stop()
        mcpPeer.stop()
        try await agent.waitFor("every target down", timeout: 20) {
            let status = (try? await agent.status()) ?? [:]
            return names.allSatisfy { status[$0]?["state"] as? String == "down" }
        }
        let backAt = unixNanosNow()
        httpPeer = try httpPeer.restarted(args: ["{port}", "--instance", "i-1"])
        mcpPeer = try mcpPeer.restarted(args: ["sse", "{port}", "--instance", "i-1"])
        try await waitForSuccessfulProbes(2, of: names, in: spans, after: backAt, agent: agent, what: "2 successful probes after the outage")
        let metrics = try await agent.get("/metrics").1

        for name in names {
            let probes = spans.probes(of: name)
            let recoveries = probes.flatMap { $0.events("health.state_change") }.filter { $0["from"] as? String == "down" && $0["to"] as? String == "up" }
            XCTAssertEqual(recoveries.count, 1, "\(name): one recovery from down to up")
            let restarts = probes.flatMap { $0.events("target.restart") }
            XCTAssertEqual(restarts.count, 0, "\(name): a recovery with the same identity is not a restart, got \(restarts)")
            XCTAssertEqual(sample(metrics, "probe_target_restarts_total", labels: ["target": name]), 0, "\(name): restarts")
        }
        stopAgent(agent)
    }

    /// A restart document answering 401 (wrong or no token), 500, or 200 with a body that is not
    /// JSON: no restart, and the reason is on the document's span and in a log line.
    func testUnusableDocumentIsARecordedReasonNotARestart() async throws {
        var peer = try FixtureServer(script: "http_server.py", args: ["{port}", "--instance", "i-1", "--token", Self.token])
        defer { peer.stop() }
        let protected = peer.baseURL + "/_test/instance"
        // doc_not_json: a 200 whose body is text.
        let documents = ["doc_wrong_token": (protected, 401), "doc_no_token": (protected, 401),
                         "doc_500": (peer.baseURL + "/status/500", 500), "doc_not_json": (peer.baseURL + "/status/200", 200)]
        let targets = documents.keys.sorted().map { name in
            """
              - name: \(name)
                kind: http
                url: \(peer.baseURL)/instance
                auth: \(name == "doc_no_token" ? "{type: none}" : "{type: bearer, token: not-the-token}")
                restart_detection:
                  - json_field: instance
                    url: \(documents[name]!.0)
            """
        }
        let spans = ProbeSpanFile()
        let agent = try RunningAgent(config: Self.config(spans: spans, failureThreshold: 10, targets: targets),
                                     environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        let names = documents.keys.sorted()

        try await waitForSuccessfulProbes(2, of: names, in: spans, agent: agent, what: "2 successful probes before the restart")
        let restartedAt = unixNanosNow()
        peer = try peer.restarted(args: ["{port}", "--instance", "i-2", "--token", Self.token])
        try await waitForSuccessfulProbes(2, of: names, in: spans, after: restartedAt, agent: agent, what: "2 successful probes after the restart")
        let metrics = try await agent.get("/metrics").1
        let all = spans.spans

        for name in names {
            let (url, status) = documents[name]!
            let restarts = spans.probes(of: name).flatMap { $0.events("target.restart") }
            XCTAssertEqual(restarts.count, 0, "\(name): an unreadable document is no restart, got \(restarts)")
            XCTAssertEqual(sample(metrics, "probe_target_restarts_total", labels: ["target": name]), 0, "\(name): restarts")
            let documentSpans = all.filter {
                $0.raw["kind"] as? Int == 3 && $0.attributes["url.full"] as? String == url
                    && $0.attributes["http.response.status_code"] as? Int == status
            }
            XCTAssertFalse(documentSpans.isEmpty, "\(name): a CLIENT span of the document GET with status \(status)")
            let logged = await eventually(timeout: 5) {
                agent.log.split(separator: "\n").contains { line in
                    line.contains("target=\(name)") && line.lowercased().contains("restart") && (status == 200 || line.contains("\(status)"))
                }
            }
            XCTAssertTrue(logged, "\(name): a log line says why the restart document (HTTP \(status)) was not used; log:\n\(agent.log.suffix(3000))")
        }
        stopAgent(agent)
    }

    /// A document with `auth:` of its own (a gateway's admin-only `/version` while the target is
    /// probed with other credentials, or none): the document GET carries that auth, never the
    /// target's (an `Authorization` among its headers included), and the restart is seen.
    func testDocumentWithItsOwnAuthIsReadWithIt() async throws {
        var peer = try FixtureServer(script: "http_server.py", args: ["{port}", "--instance", "i-1", "--token", Self.token])
        defer { peer.stop() }
        let targets = [("no_auth", "auth: {type: none}"), ("other_bearer", "auth: {type: bearer, token: not-the-token}"),
                       ("authorization_header", "headers: {Authorization: Bearer not-the-token}")].map { name, credentials in
            """
              - name: \(name)
                kind: http
                url: \(peer.baseURL)/instance
                \(credentials)
                restart_detection:
                  - json_field: instance
                    url: \(peer.baseURL)/_test/instance
                    auth: {type: bearer, token: \(Self.token)}
            """
        }
        let names = ["no_auth", "other_bearer", "authorization_header"]
        let spans = ProbeSpanFile()
        let agent = try RunningAgent(config: Self.config(spans: spans, failureThreshold: 10, targets: targets),
                                     environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        try await waitForSuccessfulProbes(2, of: names, in: spans, agent: agent, what: "2 successful probes before the restart")
        let restartedAt = unixNanosNow()
        peer = try peer.restarted(args: ["{port}", "--instance", "i-2", "--token", Self.token])
        try await waitForSuccessfulProbes(2, of: names, in: spans, after: restartedAt, agent: agent, what: "2 successful probes after the restart")

        for name in names {
            let probes = spans.probes(of: name)
            XCTAssertEqual(probes.flatMap { $0.events("target.restart") }.count, 1, "\(name): the restart is seen")
            XCTAssertEqual(probes.flatMap { $0.events("target.restart_signal.unread") }.count, 0, "\(name): the document was always read")
        }
        let documentRequests = try await fetchJSON(peer.baseURL + "/_test/instance-stats") as? [String: Int] ?? [:]
        XCTAssertGreaterThan(documentRequests["authorized"] ?? 0, 0, "\(documentRequests)")
        XCTAssertEqual(documentRequests["refused"] ?? -1, 0, "every document GET carried the document's own token: \(documentRequests)")
        XCTAssertFalse(agent.log.contains(Self.token), "the token never shows in the log")
        stopAgent(agent)
    }

    /// The document is fetched outside the probe's duration: a document that takes 300 ms to
    /// answer leaves a fast probe's `probe_duration_seconds` well under 0.3 s.
    func testDocumentFetchIsNotPartOfProbeDuration() async throws {
        let peer = try FixtureServer(script: "http_server.py", args: ["{port}", "--instance", "i-1", "--document-delay", "0.3"])
        defer { peer.stop() }
        let target = """
              - name: slow_document
                kind: http
                url: \(peer.baseURL)/instance
                restart_detection:
                  - json_field: instance
                    url: \(peer.baseURL)/_test/instance
            """
        let spans = ProbeSpanFile()
        let agent = try RunningAgent(config: Self.config(spans: spans, failureThreshold: 10, targets: [target]),
                                     environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        try await waitForSuccessfulProbes(3, of: ["slow_document"], in: spans, agent: agent, what: "3 successful probes")
        var durations: [Double] = []
        for _ in 0..<3 {
            let metrics = try await agent.get("/metrics").1
            durations.append(sample(metrics, "probe_duration_seconds", labels: ["target": "slow_document"]) ?? -1)
            try await Task.sleep(for: .milliseconds(1000))
        }
        let documentRequests = try await fetchJSON(peer.baseURL + "/_test/instance-stats") as? [String: Int] ?? [:]
        XCTAssertGreaterThan(documentRequests["authorized"] ?? 0, 0, "the document was fetched: \(documentRequests)")
        for duration in durations {
            XCTAssertGreaterThanOrEqual(duration, 0, "probe_duration_seconds is on /metrics")
            XCTAssertLessThan(duration, 0.2, "probe_duration_seconds without the 300 ms document: \(durations)")
        }
        stopAgent(agent)
    }

    // MARK: - Helpers

    static func config(spans: ProbeSpanFile, failureThreshold: Int, targets: [String]) -> String {
        """
        admin:
          listen: {admin}
        log_level: info
        defaults:
          interval: 1s
          timeout: 900ms
          failure_threshold: \(failureThreshold)
        exporter:
          file: \(spans.path)
        targets:
        \(targets.joined(separator: "\n"))
        """
    }

    private func waitForSuccessfulProbes(_ count: Int, of names: [String], in spans: ProbeSpanFile, after nanos: UInt64 = 0,
                                         agent: RunningAgent, what: String) async throws {
        try await agent.waitFor(what, timeout: 40) {
            names.allSatisfy { spans.successfulProbes(of: $0, after: nanos).count >= count }
        }
    }

    private func stopAgent(_ agent: RunningAgent) {
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), "agent did not stop:\n\(agent.log.suffix(3000))")
    }
}
