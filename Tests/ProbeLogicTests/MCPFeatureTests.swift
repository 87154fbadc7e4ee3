import Foundation
import HTTPClient
import ProbeLogic
import TestSupport
import Tracing
import XCTest

/// The StreamableHTTP probe's optional steps and fallbacks, against real SDK servers.
final class MCPFeatureTests: XCTestCase {
    func testInitializedNotificationAndDeepCheck() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["sse", "{port}"])
        let deep = DeepCheck(listTools: true, toolCall: ToolCall(name: "echo", argumentsJSON: #"{"text":"hello probe"}"#, expectContains: "hello probe"))
        let target = Target(name: "deep", url: server.baseURL + "/mcp",
                            kind: .mcp(MCPOptions(transport: .streamableHTTP, sendInitialized: true, deep: deep)))
        let (run, _) = await ProbeHarness().run(target)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        XCTAssertEqual(run.report.attributes["mcp.tools.count"], .int(1))
        XCTAssertEqual(run.report.attributes["mcp.initialized.status_code"], .int(202))
        let methods = try await rpcMethods(server)
        XCTAssertEqual(methods, ["initialize", "notifications/initialized", "tools/list", "tools/call", "HTTP DELETE"])
        let open = try await openSessions(server)
        XCTAssertEqual(open, 0)

        var failing = target
        failing.kind = .mcp(MCPOptions(transport: .streamableHTTP, deep: DeepCheck(toolCall: ToolCall(name: "echo", argumentsJSON: #"{"text":"a"}"#, expectContains: "b"))))
        let (bad, _) = await ProbeHarness().run(failing)
        XCTAssertEqual(bad.report.outcome.health, .degraded, "a broken tool on an up server is degraded by default")
        XCTAssertEqual(bad.report.outcome.errorType, .assertionFailed)
        var unknownTool = target
        unknownTool.kind = .mcp(MCPOptions(transport: .streamableHTTP, deep: DeepCheck(listTools: false, toolCall: ToolCall(name: "nope"))))
        let (missing, _) = await ProbeHarness().run(unknownTool)
        XCTAssertEqual(missing.report.outcome.health, .degraded, missing.report.outcome.message)
        unknownTool.kind = .mcp(MCPOptions(transport: .streamableHTTP,
                                           deep: DeepCheck(listTools: false, toolCall: ToolCall(name: "nope"), onFailure: .unhealthy)))
        let (down, _) = await ProbeHarness().run(unknownTool)
        XCTAssertEqual(down.report.outcome.health, .unhealthy, "mcp.deep.on_failure: unhealthy")
    }

    func testTrailingSlashRedirectIsFollowedOnceAndReported() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let target = Target(name: "slash", url: server.baseURL + "/mcp/", kind: .mcp(MCPOptions(transport: .streamableHTTP)))
        let (run, spans) = await ProbeHarness().run(target)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        XCTAssertNotNil(run.report.attributes["probe.redirect"])
        XCTAssertEqual(spans.httpClients.map(\.name), ["POST", "POST", "DELETE"])
        let open = try await openSessions(server)
        XCTAssertEqual(open, 0)
    }

    func testModernOnlyServerIsProbedWithServerDiscoverAndRemembered() async throws {
        let server = try FixtureServer(script: "mcp_modern_stub.py")
        let harness = ProbeHarness()
        let target = Target(name: "modern", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)))
        let (first, _) = await harness.run(target)
        XCTAssertEqual(first.report.outcome.health, .healthy, first.report.outcome.message)
        XCTAssertEqual(first.report.server?.serverName, "modern-stub")
        XCTAssertEqual(first.report.server?.protocolVersion, "2026-07-28")
        let (second, _) = await harness.run(target)
        XCTAssertEqual(second.report.outcome.health, .healthy)
        let methods = try await rpcMethods(server)
        XCTAssertEqual(methods, ["initialize", "server/discover", "server/discover"], "the era is remembered per origin")
    }

    func testRealMCP2ServerAcceptsOurServerDiscover() async throws {
        // The 2.3 SDK answers server/discover; teach the runner the origin is modern and probe.
        let server = try FixtureServer(script: "mcp_server.py", args: ["stateless", "{port}"])
        let harness = ProbeHarness()
        harness.runner.origins.remember(.modern, for: server.baseURL)
        let (run, _) = await harness.run(Target(name: "m", url: server.baseURL + "/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP))))
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        XCTAssertEqual(run.report.server?.serverName, "probe-test")
        XCTAssertEqual(run.report.attributes["mcp.era"], "modern")
    }

    func testMCP1ServersInEveryMode() async throws {
        for mode in ["json", "sse", "stateless"] {
            let server = try FixtureServer(script: "mcp_server.py", args: [mode, "{port}"], mcpMajor: 1)
            let (run, _) = await ProbeHarness().run(Target(name: "v1-\(mode)", url: server.baseURL + "/mcp"))
            XCTAssertEqual(run.report.outcome.health, .healthy, "\(mode): \(run.report.outcome.message)")
            XCTAssertEqual(run.report.server?.serverName, "probe-test", mode)
            let open = try await openSessions(server)
            XCTAssertEqual(open, 0, mode)
        }
    }

    func testAutoTransportFallsBackToLegacySSE() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["legacy-sse", "{port}"])
        let harness = ProbeHarness()
        let target = Target(name: "auto", url: server.baseURL + "/sse")
        let (run, _) = await harness.run(target)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        XCTAssertEqual(run.report.transport, .sse)
        let first = try await recordedRequests(server).map { "\($0.method) \($0.path)" }
        XCTAssertEqual(first.first, "POST /sse", "auto tries Streamable HTTP first")
        // The origin is remembered as legacy: the next probe goes straight to the SSE GET.
        let (again, _) = await harness.run(target)
        XCTAssertEqual(again.report.outcome.health, .healthy)
        let second = try await recordedRequests(server).map { "\($0.method) \($0.path)" }.dropFirst(first.count)
        XCTAssertEqual(second.first, "GET /sse", "\(second)")
        XCTAssertFalse(second.contains("POST /sse"))
    }

    /// A server that offers HTTP/2 by ALPN: the probe speaks it (libcurl's default for https),
    /// says so on its CLIENT spans, and the exchange still closes its session.
    func testMCPOverHTTP2() async throws {
        let certificate = try SelfSignedCertificate.make(days: 30)
        defer { certificate.remove() }
        let server = try FixtureServer(script: "mcp_server.py",
                                       args: ["json", "{port}", "--tls", certificate.certFile, certificate.keyFile, "--h2"])
        defer { server.stop() }
        var target = Target(name: "h2", url: "https://127.0.0.1:\(server.port)/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)))
        target.tls.caFile = certificate.certFile
        let (run, spans) = await ProbeHarness().run(target)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        XCTAssertEqual(run.report.server?.serverName, "probe-test")
        let clients = spans.httpClients
        XCTAssertEqual(clients.map(\.name), ["POST", "DELETE"])
        for client in clients { XCTAssertEqual(client.attributes["network.protocol.version"], "2", client.name) }
        XCTAssertEqual(run.report.attributes["mcp.session.closed"], .bool(true))
    }

    func testMCPOverTLSReportsCertificateExpiryAndNeedsTheCA() async throws {
        let certificate = try SelfSignedCertificate.make(days: 12)
        defer { certificate.remove() }
        let cert = certificate.certFile, key = certificate.keyFile
        let server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}", "--tls", cert, key])
        let url = "https://127.0.0.1:\(server.port)/mcp"

        let (untrusted, _) = await ProbeHarness().run(Target(name: "tls", url: url))
        XCTAssertEqual(untrusted.report.outcome.health, .unreachable)
        XCTAssertEqual(untrusted.report.outcome.errorType, .certificateInvalid)

        var target = Target(name: "tls", url: url)
        target.tls.caFile = cert
        let (trusted, _) = await ProbeHarness().run(target)
        XCTAssertEqual(trusted.report.outcome.health, .healthy, trusted.report.outcome.message)
        let notAfter = try XCTUnwrap(trusted.report.certificateNotAfter)
        let days = (notAfter - Date().timeIntervalSince1970) / 86400
        XCTAssertEqual(days, 12, accuracy: 0.1, "certificate expiry from the TLS handshake")
    }

    /// On a 2026-era server the main answer is `server/discover`'s: its handshake gives the
    /// certificate expiry, on the first probe (initialize → -32022 → discover) and on later ones.
    func testModernEraOverTLSReportsCertificateExpiry() async throws {
        let certificate = try SelfSignedCertificate.make(days: 20)
        defer { certificate.remove() }
        let server = try FixtureServer(script: "mcp_modern_stub.py", args: ["{port}", "--tls", certificate.certFile, certificate.keyFile])
        defer { server.stop() }
        var target = Target(name: "modern-tls", url: "https://127.0.0.1:\(server.port)/mcp", kind: .mcp(MCPOptions(transport: .streamableHTTP)))
        target.tls.caFile = certificate.certFile
        let harness = ProbeHarness()
        for probe in 1...2 {
            let (run, _) = await harness.run(target)
            XCTAssertEqual(run.report.outcome.health, .healthy, "probe \(probe): \(run.report.outcome.message)")
            XCTAssertEqual(run.report.attributes["mcp.era"], "modern")
            let notAfter = try XCTUnwrap(run.report.certificateNotAfter, "probe \(probe): certificate expiry of a 2026-era target")
            XCTAssertEqual((notAfter - Date().timeIntervalSince1970) / 86400, 20, accuracy: 0.1)
        }
    }
}
