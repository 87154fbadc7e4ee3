import Foundation
import HTTPClient
import ProbeLogic
import TestSupport
import Tracing
import XCTest

/// Era detection (handshake, 2026-07-28, legacy SSE) against the official SDK's and FastMCP's own
/// servers: the verdict does not depend on one error code or on what the origin was before, and
/// requests per probe are counted at the server.
final class MCPEraTests: XCTestCase {
    func modernOnlyServer() throws -> FixtureServer { try FixtureServer(script: "mcp_server.py", args: ["modern-only", "{port}"]) }

    /// `era: handshake` speaks `initialize` only, whatever the origin was found to be; `era:
    /// modern` starts with `server/discover`.
    func testConfiguredEraDecidesWhereTheProbeStarts() async throws {
        let server = try modernOnlyServer()
        let harness = ProbeHarness()
        let url = server.baseURL + "/mcp"
        let (found, _) = await harness.run(Target(name: "modern", url: url))
        XCTAssertEqual(found.report.outcome.health, .healthy, found.report.outcome.message)
        let before = try await rpcMethods(server).count

        let (handshake, _) = await harness.run(Target(name: "handshake", url: url, kind: .mcp(MCPOptions(era: .handshake))))
        XCTAssertEqual(handshake.report.outcome.health, .degraded, "the 2026-only server's answer to initialize")
        XCTAssertEqual(handshake.report.outcome.errorType, .jsonRPCError)
        let afterHandshake = try await rpcMethods(server)
        XCTAssertEqual(Array(afterHandshake.dropFirst(before)), ["initialize"], "no server/discover with era handshake")

        let (modern, _) = await ProbeHarness().run(Target(name: "fresh", url: url, kind: .mcp(MCPOptions(era: .modern))))
        XCTAssertEqual(modern.report.outcome.health, .healthy, modern.report.outcome.message)
        let afterModern = try await rpcMethods(server)
        XCTAssertEqual(Array(afterModern.dropFirst(afterHandshake.count)), ["server/discover"], "a fresh runner, and still server/discover first")
    }

    /// mcp 2.3.0's 2026 entry answers `initialize` with HTTP 400 / -32602: one `server/discover`
    /// finds it healthy, and the next probe is that one request.
    func testOfficialModernOnlyServerIsFoundByServerDiscoverAndRemembered() async throws {
        let server = try modernOnlyServer()
        let harness = ProbeHarness()
        let target = Target(name: "modern", url: server.baseURL + "/mcp")
        let (first, _) = await harness.run(target)
        XCTAssertEqual(first.report.outcome.health, .healthy, first.report.outcome.message)
        XCTAssertEqual(first.report.attributes["mcp.era"], "modern")
        XCTAssertEqual(first.report.server?.serverName, "probe-test")
        XCTAssertEqual(first.report.server?.protocolVersion, "2026-07-28")
        let firstMethods = try await rpcMethods(server)
        XCTAssertEqual(firstMethods, ["initialize", "server/discover"])
        let (second, _) = await harness.run(target)
        XCTAssertEqual(second.report.outcome.health, .healthy, second.report.outcome.message)
        let secondMethods = try await rpcMethods(server).dropFirst(firstMethods.count)
        XCTAssertEqual(Array(secondMethods), ["server/discover"], "the era is remembered: one request")
    }

    /// `mcp.deep` on a 2026 server: tools/list and tools/call, each with the `_meta` envelope,
    /// `MCP-Protocol-Version`, `Mcp-Method` (and `Mcp-Name` for the call), no session.
    func testDeepCheckRunsOnAModernServer() async throws {
        let server = try modernOnlyServer()
        let harness = ProbeHarness()
        harness.runner.origins.remember(.modern, for: server.baseURL)
        let call = ToolCall(name: "echo", argumentsJSON: #"{"text":"hello modern"}"#, expectContains: "hello modern")
        let target = Target(name: "deep-modern", url: server.baseURL + "/mcp",
                            kind: .mcp(MCPOptions(sendInitialized: true, deep: DeepCheck(listTools: true, toolCall: call))))
        let (run, spans) = await harness.run(target)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        XCTAssertEqual(run.report.attributes["mcp.tools.count"], .int(1))
        XCTAssertEqual(run.report.attributes["mcp.tool.name"], "echo")
        XCTAssertEqual(run.report.attributes["mcp.initialized.skipped"], "no handshake in the 2026-07-28 era")
        let root = try XCTUnwrap(spans.first { $0.name == "probe" })
        XCTAssertEqual(root.attributes["mcp.tools.count"], .int(1), "tools/list count on the probe span")

        let requests = try await getJSON(server.baseURL + "/_test/requests") as? [[String: Any]] ?? []
        XCTAssertEqual(requests.compactMap { $0["rpc"] as? String }, ["server/discover", "tools/list", "tools/call"])
        for request in requests {
            let rpc = request["rpc"] as? String ?? "?"
            let headers = request["headers"] as? [String: String] ?? [:]
            XCTAssertEqual(headers["mcp-protocol-version"], "2026-07-28", rpc)
            XCTAssertEqual(headers["mcp-method"], rpc, rpc)
            XCTAssertNil(headers["mcp-session-id"], rpc)
            let meta = (request["params"] as? [String: Any])?["_meta"] as? [String: Any]
            XCTAssertEqual(meta?["io.modelcontextprotocol/protocolVersion"] as? String, "2026-07-28", rpc)
        }
        XCTAssertEqual((requests.last?["headers"] as? [String: String])?["mcp-name"], "echo")

        // A broken tool on an up server: degraded by default, unhealthy when the target says so.
        var failing = call
        failing.expectContains = "not in the answer"
        var broken = target
        broken.kind = .mcp(MCPOptions(deep: DeepCheck(listTools: false, toolCall: failing)))
        let (degraded, _) = await harness.run(broken)
        XCTAssertEqual(degraded.report.outcome.health, .degraded, degraded.report.outcome.message)
        XCTAssertEqual(degraded.report.outcome.errorType, .assertionFailed)
        broken.kind = .mcp(MCPOptions(deep: DeepCheck(listTools: false, toolCall: failing, onFailure: .unhealthy)))
        let (unhealthy, _) = await harness.run(broken)
        XCTAssertEqual(unhealthy.report.outcome.health, .unhealthy, unhealthy.report.outcome.message)
    }

    /// Requests counted at the server: 2 on a stateful server (initialize + DELETE), 1 on a
    /// stateless one; the SDK's default (dual-era) endpoint is healthy in either era.
    func testDualEraAndStatelessServersRequestsPerProbe() async throws {
        let dual = try FixtureServer(script: "mcp_server.py", args: ["dual", "{port}"])
        let (handshake, _) = await ProbeHarness().run(Target(name: "dual", url: dual.baseURL + "/mcp"))
        XCTAssertEqual(handshake.report.outcome.health, .healthy, handshake.report.outcome.message)
        let dualMethods = try await rpcMethods(dual)
        XCTAssertEqual(dualMethods, ["initialize", "HTTP DELETE"])
        let modernHarness = ProbeHarness()
        modernHarness.runner.origins.remember(.modern, for: dual.baseURL)
        let (modern, _) = await modernHarness.run(Target(name: "dual", url: dual.baseURL + "/mcp"))
        XCTAssertEqual(modern.report.outcome.health, .healthy, modern.report.outcome.message)
        XCTAssertEqual(modern.report.attributes["mcp.era"], "modern")
        let afterModern = try await rpcMethods(dual).dropFirst(dualMethods.count)
        XCTAssertEqual(Array(afterModern), ["server/discover"])

        let stateless = try FixtureServer(script: "mcp_server.py", args: ["stateless", "{port}"])
        let (run, _) = await ProbeHarness().run(Target(name: "stateless", url: stateless.baseURL + "/mcp"))
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        let statelessMethods = try await rpcMethods(stateless)
        XCTAssertEqual(statelessMethods, ["initialize"])
    }

    /// An origin remembered as modern whose server now speaks only the handshake (mcp 1.x answers
    /// `server/discover` with 400 / -32600): the same probe falls back to `initialize`, and the
    /// next one starts there.
    func testRememberedModernOriginFallsBackToInitializeInTheSameProbe() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"], mcpMajor: 1)
        let harness = ProbeHarness()
        harness.runner.origins.remember(.modern, for: server.baseURL)
        let target = Target(name: "was-modern", url: server.baseURL + "/mcp")
        let (first, _) = await harness.run(target)
        XCTAssertEqual(first.report.outcome.health, .healthy, first.report.outcome.message)
        XCTAssertEqual(first.report.server?.serverName, "probe-test")
        let firstMethods = try await rpcMethods(server)
        XCTAssertEqual(firstMethods, ["server/discover", "initialize", "HTTP DELETE"])
        let (second, _) = await harness.run(target)
        XCTAssertEqual(second.report.outcome.health, .healthy, second.report.outcome.message)
        let secondMethods = try await rpcMethods(server).dropFirst(firstMethods.count)
        XCTAssertEqual(Array(secondMethods), ["initialize", "HTTP DELETE"])
    }

    /// A server that changes era under one URL is re-detected in the probe that meets the change.
    func testServerChangingEraIsRedetected() async throws {
        var server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let harness = ProbeHarness()
        let target = Target(name: "changing", url: server.baseURL + "/mcp")
        let (handshake, _) = await harness.run(target)
        XCTAssertEqual(handshake.report.outcome.health, .healthy, handshake.report.outcome.message)
        XCTAssertNil(handshake.report.attributes["mcp.era"])
        server = try server.restarted(args: ["modern-only", "{port}"])
        let (modern, _) = await harness.run(target)
        XCTAssertEqual(modern.report.outcome.health, .healthy, modern.report.outcome.message)
        XCTAssertEqual(modern.report.attributes["mcp.era"], "modern")
        server.stop()
        server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"], port: server.port, mcpMajor: 1)
        let (back, _) = await harness.run(target)
        XCTAssertEqual(back.report.outcome.health, .healthy, back.report.outcome.message)
        let methods = try await rpcMethods(server)
        XCTAssertEqual(methods, ["server/discover", "initialize", "HTTP DELETE"])
        server.stop()
    }

    /// FastMCP in its three HTTP modes, on `transport: auto`: healthy fresh, and healthy whatever
    /// era the origin was remembered in (its answers to the other eras' requests are re-detected).
    func testFastMCPServersInEveryMode() async throws {
        for (mode, path, requests) in [("streamable", "/mcp", ["initialize", "HTTP DELETE"]), ("stateless", "/mcp", ["initialize"]),
                                       ("sse", "/sse", nil)] {
            let server = try FixtureServer(script: "fastmcp_server.py", args: [mode, "{port}"])
            defer { server.stop() }
            let target = Target(name: "fastmcp-\(mode)", url: server.baseURL + path)
            let (run, _) = await ProbeHarness().run(target)
            XCTAssertEqual(run.report.outcome.health, .healthy, "\(mode): \(run.report.outcome.message)")
            XCTAssertEqual(run.report.server?.serverName, "fastmcp-test", mode)
            if let requests {
                let methods = try await rpcMethods(server)
                XCTAssertEqual(methods, requests, mode)
            } else {
                XCTAssertEqual(run.report.transport, .sse)
            }
            for era in [OriginFacts.Era.modern, .legacy] {
                let harness = ProbeHarness()
                harness.runner.origins.remember(era, for: server.baseURL)
                let (again, _) = await harness.run(target)
                XCTAssertEqual(again.report.outcome.health, .healthy, "\(mode), origin remembered \(era): \(again.report.outcome.message)")
            }
        }
    }

    /// Legacy SSE behind a bearer check, a rejected token, `transport: auto`: degraded with
    /// `auth.status = rejected`, fresh and whatever the origin's era memory holds.
    func testLegacySSEWithRejectedTokenIsDegradedWhateverTheOriginSawBefore() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["legacy-sse", "{port}", "--auth"])
        let url = server.baseURL + "/sse"
        let rejected = Target(name: "sse-rejected", url: url, auth: .bearer(token: Secret("revoked-token")))
        let good = Target(name: "sse-good", url: url, auth: .bearer(token: Secret("good-token")))

        func check(_ harness: ProbeHarness, _ label: String) async throws {
            let (run, spans) = await harness.run(rejected)
            XCTAssertEqual(run.report.outcome.health, .degraded, "\(label): \(run.report.outcome.message)")
            XCTAssertEqual(run.report.outcome.errorType, .authRejected, label)
            let root = try XCTUnwrap(spans.first { $0.name == "probe" }, label)
            XCTAssertEqual(root.attributes["auth.status"]?.stringValue, "rejected", label)
        }
        try await check(ProbeHarness(), "fresh origin")

        let knownLegacy = ProbeHarness()
        let (healthy, _) = await knownLegacy.run(good)
        XCTAssertEqual(healthy.report.outcome.health, .healthy, healthy.report.outcome.message)
        XCTAssertEqual(healthy.report.transport, .sse)
        try await check(knownLegacy, "origin known as legacy")
        try await check(knownLegacy, "origin known as legacy, again")
        let (stillHealthy, _) = await knownLegacy.run(good)
        XCTAssertEqual(stillHealthy.report.outcome.health, .healthy, stillHealthy.report.outcome.message)

        let knownModern = ProbeHarness()
        knownModern.runner.origins.remember(.modern, for: server.baseURL)
        try await check(knownModern, "origin known as modern")
    }
}

/// Two endpoints of one origin in different eras (a proxy's `/sse` and `/mcp`) keep their own;
/// a URL not probed yet starts from what the origin showed last.
final class OriginFactsTests: XCTestCase {
    func testEraIsKeptPerURLAndLearnedPerOrigin() {
        let facts = OriginFacts()
        XCTAssertEqual(facts.era(of: "http://127.0.0.1:9/mcp"), .handshake)
        facts.remember(.legacy, for: "http://127.0.0.1:9/sse")
        facts.remember(.modern, for: "http://127.0.0.1:9/mcp")
        XCTAssertEqual(facts.era(of: "http://127.0.0.1:9/sse"), .legacy)
        XCTAssertEqual(facts.era(of: "http://127.0.0.1:9/mcp"), .modern)
        XCTAssertEqual(facts.era(of: "http://127.0.0.1:9/other/mcp"), .modern)
        XCTAssertEqual(facts.era(of: "http://127.0.0.1:10/mcp"), .handshake)
        XCTAssertEqual(facts.era(of: "not a url"), .handshake)
    }
}

/// The JSON-RPC methods (or `HTTP <method>` for other requests) the MCP test peer received, in order.
func rpcMethods(_ server: FixtureServer) async throws -> [String] {
    let list = try await getJSON(server.baseURL + "/_test/requests")
    if let names = list as? [String] { return names }
    return (list as? [[String: Any]] ?? []).compactMap { ($0["rpc"] as? String) ?? ($0["method"] as? String).map { "HTTP \($0)" } }
}
