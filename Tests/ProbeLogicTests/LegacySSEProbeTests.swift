import Foundation
import HTTPClient
import TestSupport
import Tracing
import XCTest
@testable import ProbeLogic

/// The legacy HTTP+SSE probe against the official Python SDK servers (mcp 2.3 and 1.30).
final class LegacySSEProbeTests: XCTestCase {
    func sseTarget(_ server: FixtureServer) -> Target {
        Target(name: "legacy", url: server.baseURL + "/sse", kind: .mcp(MCPOptions(transport: .sse)), timeout: .seconds(10))
    }

    func testPythonSDK2LegacyServerIsHealthyAndTheStreamIsClosed() async throws {
        try await assertHealthyLegacyServer(mcpMajor: 2)
    }

    func testPythonSDK1LegacyServerIsHealthyAndTheStreamIsClosed() async throws {
        try await assertHealthyLegacyServer(mcpMajor: 1)
    }

    /// `send_initialized` and the deep check over legacy SSE: each request POSTed to the endpoint,
    /// each answer read from the open GET stream.
    func testInitializedNotificationAndDeepCheckOverLegacySSE() async throws {
        for major in [2, 1] {
            let server = try FixtureServer(script: "mcp_server.py", args: ["legacy-sse", "{port}"], mcpMajor: major)
            defer { server.stop() }
            let deep = DeepCheck(listTools: true, toolCall: ToolCall(name: "echo", argumentsJSON: #"{"text":"hello legacy"}"#,
                                                                      expectContains: "hello legacy"))
            var target = sseTarget(server)
            target.kind = .mcp(MCPOptions(transport: .sse, sendInitialized: true, deep: deep))
            let (report, spans, _) = await ProbeHarness().run(LegacySSEProbe(), target)
            XCTAssertEqual(report.outcome.health, .healthy, "mcp \(major): \(report.outcome.message)")
            XCTAssertEqual(report.attributes.first { $0.key == "mcp.tools.count" }?.value, .int(1), "mcp \(major)")
            XCTAssertEqual(report.attributes.first { $0.key == "mcp.initialized.status_code" }?.value, .int(202), "mcp \(major)")
            let received = try await getJSON(server.baseURL + "/_test/requests") as? [[String: Any]] ?? []
            let rpcs = received.compactMap { $0["rpc"] as? String }
            XCTAssertEqual(rpcs, ["initialize", "notifications/initialized", "tools/list", "tools/call"], "mcp \(major)")
            // Each message in its MCP span (ended when its answer came on the stream), whose context
            // the message carries in `_meta`.
            let mcp = spans.mcpClients
            XCTAssertEqual(mcp.map(\.name), ["initialize", "notifications/initialized", "tools/list", "tools/call echo"], "mcp \(major)")
            let metaSpanIDs = received.compactMap { ($0["meta_traceparent"] as? String).flatMap { W3CTraceContext.parse(traceparent: $0)?.spanID } }
            XCTAssertEqual(metaSpanIDs, mcp.map(\.context.spanID), "mcp \(major)")
            for span in mcp { XCTAssertEqual(span.attributes["mcp.protocol.version"], .string(report.server?.protocolVersion ?? "?"), span.name) }

            target.kind = .mcp(MCPOptions(transport: .sse, deep: DeepCheck(toolCall: ToolCall(name: "echo", argumentsJSON: #"{"text":"a"}"#,
                                                                                                  expectContains: "b"))))
            let (bad, _, _) = await ProbeHarness().run(LegacySSEProbe(), target)
            XCTAssertEqual(bad.outcome.health, .degraded, "mcp \(major): a broken tool on an up server")
            XCTAssertEqual(bad.outcome.errorType, .assertionFailed, "mcp \(major)")
        }
    }

    func assertHealthyLegacyServer(mcpMajor: Int, file: StaticString = #filePath, line: UInt = #line) async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["legacy-sse", "{port}"], mcpMajor: mcpMajor)
        defer { server.stop() }
        let (report, spans, _) = await ProbeHarness().run(LegacySSEProbe(), sseTarget(server))
        XCTAssertEqual(report.outcome.health, .healthy, report.outcome.message, file: file, line: line)
        XCTAssertEqual(report.transport, .sse, file: file, line: line)
        XCTAssertEqual(report.probeType, .anonymous, file: file, line: line)
        XCTAssertEqual(report.httpStatus, 200, file: file, line: line)
        XCTAssertEqual(report.server?.serverName, "probe-test", file: file, line: line)
        XCTAssertEqual(report.server?.protocolVersion, MCPMessages.handshakeProtocolVersion, "the server negotiates our version",
                       file: file, line: line)
        let endpoint = report.attributes.first { $0.key == "mcp.sse.endpoint" }?.value
        XCTAssertEqual(endpoint, .string(server.baseURL + "/messages/?session_id=REDACTED"), file: file, line: line)

        // The GET is closed: no connection to the server stays established (checked before our own requests).
        let closed = await eventually { establishedConnections(toPort: server.port) == 0 }
        XCTAssertTrue(closed, "the probe left a connection open", file: file, line: line)

        let requests = try await recordedRequests(server)
        XCTAssertEqual(requests.map(\.method), ["GET", "POST"], file: file, line: line)
        let get = try XCTUnwrap(requests.first?.headers)
        XCTAssertEqual(get["accept"], "text/event-stream", file: file, line: line)
        XCTAssertNil(get["origin"], file: file, line: line)
        XCTAssertEqual(requests.last?.headers["content-type"], "application/json", file: file, line: line)

        // Span tree: root probe, CLIENT GET and CLIENT POST under it; the GET outlives the POST.
        let root = try XCTUnwrap(spans.first { $0.name == "probe" }, file: file, line: line)
        XCTAssertEqual(root.attributes["mcp.transport"], "sse", file: file, line: line)
        XCTAssertEqual(root.attributes["health.status"], "healthy", file: file, line: line)
        XCTAssertEqual(root.attributes["mcp.server.name"], "probe-test", file: file, line: line)
        XCTAssertEqual(root.status.code, .ok, file: file, line: line)
        let clients = spans.httpClients.sorted { $0.startTimeUnixNano < $1.startTimeUnixNano }
        XCTAssertEqual(clients.map(\.name), ["GET", "POST"], file: file, line: line)
        // The POST carries `initialize`: its MCP CLIENT span (under the root) is its parent, and
        // ends only when the answer came on the GET stream.
        let initialize = try XCTUnwrap(spans.mcpClients.first, file: file, line: line)
        XCTAssertEqual(spans.mcpClients.map(\.name), ["initialize"], file: file, line: line)
        XCTAssertEqual(initialize.parentSpanID, root.context.spanID, file: file, line: line)
        XCTAssertEqual(initialize.attributes["mcp.protocol.version"], .string(MCPMessages.handshakeProtocolVersion), file: file, line: line)
        guard clients.count == 2 else { return }
        XCTAssertEqual(clients[0].parentSpanID, root.context.spanID, file: file, line: line)
        XCTAssertEqual(clients[1].parentSpanID, initialize.context.spanID, file: file, line: line)
        XCTAssertGreaterThanOrEqual(initialize.endTimeUnixNano, clients[1].endTimeUnixNano, file: file, line: line)
        let (getSpan, postSpan) = (clients[0], clients[1])
        XCTAssertGreaterThan(getSpan.endTimeUnixNano, 0, "GET span ended", file: file, line: line)
        XCTAssertGreaterThanOrEqual(getSpan.endTimeUnixNano, postSpan.endTimeUnixNano, file: file, line: line)
        XCTAssertLessThanOrEqual(getSpan.endTimeUnixNano, root.endTimeUnixNano, file: file, line: line)
        XCTAssertEqual(getSpan.attributes["http.response.status_code"], .int(200), file: file, line: line)
        XCTAssertNil(getSpan.attributes["error.type"], "a deliberate close is no error", file: file, line: line)
        XCTAssertEqual(postSpan.attributes["http.response.status_code"], .int(202), file: file, line: line)
        let traceparent = try XCTUnwrap(get["traceparent"], file: file, line: line)
        XCTAssertEqual(W3CTraceContext.parse(traceparent: traceparent)?.spanID, getSpan.context.spanID, file: file, line: line)
    }

    func testEndpointOnlyProbeSendsJustTheGET() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["legacy-sse", "{port}"])
        defer { server.stop() }
        let (report, spans, _) = await ProbeHarness().run(LegacySSEProbe(initialize: false), sseTarget(server))
        XCTAssertEqual(report.outcome.health, .healthy, report.outcome.message)
        XCTAssertNil(report.server)
        XCTAssertEqual(spans.httpClients.map(\.name), ["GET"])
        let closed = await eventually { establishedConnections(toPort: server.port) == 0 }
        XCTAssertTrue(closed)
        let methods = try await recordedRequests(server).map(\.method)
        XCTAssertEqual(methods, ["GET"])
    }

    func testAutoTransportFallsBackFromStreamableHTTPToLegacySSE() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["legacy-sse", "{port}"])
        defer { server.stop() }
        let target = Target(name: "auto", url: server.baseURL + "/sse", kind: .mcp(MCPOptions(transport: .auto)), timeout: .seconds(10))
        let (report, spans, _) = await ProbeHarness().run(StreamableHTTPProbe(), target)
        XCTAssertEqual(report.outcome.health, .healthy, report.outcome.message)
        XCTAssertEqual(report.transport, .sse)
        XCTAssertEqual(report.server?.serverName, "probe-test")
        let clients = spans.httpClients.sorted { $0.startTimeUnixNano < $1.startTimeUnixNano }
        XCTAssertEqual(clients.map(\.name), ["POST", "GET", "POST"], "initialize (405), then the legacy GET and POST")
        let methods = try await recordedRequests(server).map(\.method)
        XCTAssertEqual(methods, ["POST", "GET", "POST"])
    }

    func testStreamableEndpointIsNotALegacyEndpoint() async throws {
        let server = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        defer { server.stop() }
        var target = sseTarget(server)
        target.url = server.baseURL + "/sse"
        let (report, _, _) = await ProbeHarness().run(LegacySSEProbe(), target)
        XCTAssertEqual(report.outcome.health, .unhealthy)
        XCTAssertEqual(report.outcome.errorType, .http4xx)
        XCTAssertEqual(report.httpStatus, 404)
        XCTAssertTrue(report.outcome.message.contains("SSE GET"), report.outcome.message)
    }

    /// Certificate expiry comes from the main answer of every kind: here the SSE GET's handshake.
    func testLegacySSEOverTLSReportsCertificateExpiry() async throws {
        let certificate = try SelfSignedCertificate.make(days: 9)
        defer { certificate.remove() }
        let server = try FixtureServer(script: "mcp_server.py",
                                       args: ["legacy-sse", "{port}", "--tls", certificate.certFile, certificate.keyFile])
        defer { server.stop() }
        var target = Target(name: "legacy-tls", url: "https://127.0.0.1:\(server.port)/sse",
                            kind: .mcp(MCPOptions(transport: .sse)), timeout: .seconds(10))
        target.tls.caFile = certificate.certFile
        let (run, _) = await ProbeHarness().run(target)
        XCTAssertEqual(run.report.outcome.health, .healthy, run.report.outcome.message)
        let notAfter = try XCTUnwrap(run.report.certificateNotAfter, "certificate expiry of a legacy SSE target")
        XCTAssertEqual((notAfter - Date().timeIntervalSince1970) / 86400, 9, accuracy: 0.1)
    }

    func testEndpointResolution() {
        let base = "http://127.0.0.1:8000/mount/sse"
        let table: [(String, String?, Bool, UInt)] = [
            ("/messages/?session_id=abc", "http://127.0.0.1:8000/messages/?session_id=abc", true, #line),
            ("messages/?session_id=abc", "http://127.0.0.1:8000/mount/messages/?session_id=abc", true, #line),
            ("?session_id=abc", "http://127.0.0.1:8000/mount/sse?session_id=abc", true, #line),
            ("../messages", "http://127.0.0.1:8000/messages", true, #line),
            (" /messages/ ", "http://127.0.0.1:8000/messages/", true, #line),
            ("http://127.0.0.1:8000/m?x=1", "http://127.0.0.1:8000/m?x=1", true, #line),
            ("HTTP://127.0.0.1:8000/m", "http://127.0.0.1:8000/m", true, #line),
            ("https://127.0.0.1:8000/m", "https://127.0.0.1:8000/m", false, #line),
            ("http://127.0.0.1:9000/m", "http://127.0.0.1:9000/m", false, #line),
            ("//other.example/m", "http://other.example/m", false, #line),
            ("ftp://127.0.0.1/m", nil, false, #line),
            ("mailto:a@b", nil, false, #line),
            ("", nil, false, #line),
        ]
        for (data, url, sameOrigin, line) in table {
            let resolved = LegacySSEProbe.resolveEndpoint(data, against: base)
            XCTAssertEqual(resolved?.url.lowercased(), url, "\(data)", line: line)
            if url != nil { XCTAssertEqual(resolved?.sameOrigin, sameOrigin, "\(data)", line: line) }
        }
    }
}
