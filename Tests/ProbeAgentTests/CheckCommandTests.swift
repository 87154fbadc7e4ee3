import Foundation
import HTTPClient
import TestSupport
import XCTest

/// Runs the built `probe-agent` binary as a user would.
struct AgentBinary {
    static var path: String {
        if let override = ProcessInfo.processInfo.environment["PROBE_AGENT_BIN"] { return override }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("probe-agent").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 60) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OTEL_") }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        // Output goes to files: no pipe buffer to fill, nothing shared across threads.
        let dir = FileManager.default.temporaryDirectory
        let outURL = dir.appendingPathComponent("agent-out-\(UUID().uuidString)")
        let errURL = dir.appendingPathComponent("agent-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let stdout = (try? Data(contentsOf: outURL)) ?? Data()
        let stderr = (try? Data(contentsOf: errURL)) ?? Data()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

func fetchJSON(_ url: String, method: String = "GET") async throws -> Any {
    var request = HTTPRequest(method: method, url: url)
    request.maxResponseBodyBytes = 256 << 20  // a receiver's record of thousands of spans
    let response = try await HTTPClient.shared.execute(request)
    return try JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])
}

/// Spans the OTLP receiver decoded with the official protos (MessageToDict form).
func receivedSpans(_ receiver: FixtureServer) async throws -> [(span: [String: Any], resource: [String: Any], headers: [String: Any])] {
    let records = try await fetchJSON(receiver.baseURL + "/received") as? [[String: Any]] ?? []
    var spans: [(span: [String: Any], resource: [String: Any], headers: [String: Any])] = []
    for record in records where (record["path"] as? String)?.hasSuffix("/v1/traces") == true {
        let decoded = record["decoded"] as? [String: Any] ?? [:]
        for rs in decoded["resourceSpans"] as? [[String: Any]] ?? [] {
            for ss in rs["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in ss["spans"] as? [[String: Any]] ?? [] {
                    spans.append((span, rs["resource"] as? [String: Any] ?? [:], record["headers"] as? [String: Any] ?? [:]))
                }
            }
        }
    }
    return spans
}

/// `{"key": k, "value": {"stringValue": v}}` lists as a dictionary of plain values.
func attributeMap(_ list: Any?) -> [String: Any] {
    var map: [String: Any] = [:]
    for item in list as? [[String: Any]] ?? [] {
        guard let key = item["key"] as? String, let value = item["value"] as? [String: Any], let first = value.first else { continue }
        map[key] = first.key == "intValue" ? Int(first.value as? String ?? "") ?? first.value : first.value
    }
    return map
}

final class CheckCommandTests: XCTestCase {
    func testCheckExportsTheProbeTraceThroughOurProtobufEncoder() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let result = try AgentBinary.run(["check", mcp.baseURL + "/mcp", "--name", "spine"],
                                         environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.baseURL, "OTEL_SERVICE_NAME": "probe-agent-test"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        for expected in ["spine", "healthy", "200", "2025-11-25", "probe-test", "trace id"] {
            XCTAssertTrue(result.stdout.contains(expected), "missing \(expected) in:\n\(result.stdout)")
        }
        let printedTraceID = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("trace id") }?
            .split(separator: " ").last.map(String.init))

        let spans = try await receivedSpans(receiver)
        XCTAssertEqual(spans.count, 4, "probe + initialize (MCP) + POST + DELETE")
        let byName = Dictionary(spans.map { (($0.span["name"] as? String) ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let root = try XCTUnwrap(byName["probe"]?.span)
        let post = try XCTUnwrap(byName["POST"]?.span)
        let delete = try XCTUnwrap(byName["DELETE"]?.span)
        XCTAssertEqual(root["traceId"] as? String, printedTraceID)
        XCTAssertNil(root["parentSpanId"])
        XCTAssertEqual(root["kind"] as? Int, 1, "SPAN_KIND_INTERNAL")
        XCTAssertEqual(post["kind"] as? Int, 3, "SPAN_KIND_CLIENT")
        // OpenTelemetry's MCP conventions: the JSON-RPC message's CLIENT span carries the POST.
        let initialize = try XCTUnwrap(byName["initialize"]?.span)
        XCTAssertEqual(initialize["kind"] as? Int, 3, "SPAN_KIND_CLIENT")
        XCTAssertEqual(initialize["parentSpanId"] as? String, root["spanId"] as? String)
        XCTAssertEqual(post["parentSpanId"] as? String, initialize["spanId"] as? String)
        XCTAssertEqual(delete["parentSpanId"] as? String, root["spanId"] as? String)
        let mcpAttributes = attributeMap(initialize["attributes"])
        XCTAssertEqual(mcpAttributes["mcp.method.name"] as? String, "initialize")
        XCTAssertEqual(mcpAttributes["jsonrpc.request.id"] as? String, "1")
        XCTAssertEqual(mcpAttributes["mcp.protocol.version"] as? String, "2025-11-25")
        XCTAssertEqual(mcpAttributes["server.address"] as? String, "127.0.0.1")
        XCTAssertEqual(mcpAttributes["network.transport"] as? String, "tcp")
        XCTAssertEqual(mcpAttributes["network.protocol.version"] as? String, "1.1")
        XCTAssertEqual((root["status"] as? [String: Any])?["code"] as? Int, 1, "STATUS_CODE_OK")
        let attributes = attributeMap(root["attributes"])
        XCTAssertEqual(attributes["health.status"] as? String, "healthy")
        XCTAssertEqual(attributes["health.probe_type"] as? String, "anonymous")
        XCTAssertEqual(attributes["mcp.transport"] as? String, "streamable_http")
        XCTAssertEqual(attributes["http.response.status_code"] as? Int, 200)
        XCTAssertEqual(attributes["url.full"] as? String, mcp.baseURL + "/mcp")
        XCTAssertEqual(attributes["server.address"] as? String, "127.0.0.1")
        XCTAssertEqual(attributes["server.port"] as? Int, mcp.port)
        XCTAssertEqual(attributeMap(post["attributes"])["http.request.method"] as? String, "POST")
        XCTAssertEqual(attributeMap(byName["probe"]?.resource["attributes"])["service.name"] as? String, "probe-agent-test")
        let headers = byName["probe"]?.headers ?? [:]
        let contentType = headers.first { $0.key.lowercased() == "content-type" }?.value as? String
        XCTAssertEqual(contentType, "application/x-protobuf")

        // The MCP server saw the trace: traceparent carries the probe's trace id and the POST span id.
        let requests = try await fetchJSON(mcp.baseURL + "/_test/requests") as? [[String: Any]] ?? []
        let traceparent = try XCTUnwrap((requests.first?["headers"] as? [String: String])?["traceparent"])
        let parts = traceparent.split(separator: "-").map(String.init)
        XCTAssertEqual(parts[1], root["traceId"] as? String)
        XCTAssertEqual(parts[2], post["spanId"] as? String)
    }

    func testUnreachableTargetExitsOneWithJSON() throws {
        let port = try freeLoopbackPort()
        let result = try AgentBinary.run(["check", "http://127.0.0.1:\(port)/mcp", "--json", "--timeout", "3s"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["health_status"] as? String, "unreachable")
        XCTAssertEqual(object["error_type"] as? String, "connection_refused")
        XCTAssertEqual(object["success"] as? Bool, false)
        XCTAssertEqual((object["trace_id"] as? String)?.count, 32)
    }

    func testUsageErrorsExitTwo() throws {
        let table: [([String], String)] = [
            (["check", "ftp://example.com/x"], "not an http"),
            (["check", "http://127.0.0.1:1/mcp", "--timeout", "soon"], "--timeout"),
            (["check", "http://127.0.0.1:1/mcp", "--kind", "grpc"], "--kind"),
            (["check", "http://127.0.0.1:1/mcp", "--transport", "websocket"], "--transport"),
            (["check", "http://127.0.0.1:1/mcp", "--header", "novalue"], "--header"),
            (["check"], "<url>"),
            (["frobnicate"], "frobnicate"),
        ]
        for (arguments, expected) in table {
            let result = try AgentBinary.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stdout) \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
    }

    func testSecretsNeverReachOutputOrSpans() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["auth", "{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let secrets = ["good-token", "hunter2-header", "pa55word"]
        let url = "http://user:\(secrets[2])@127.0.0.1:\(mcp.port)/mcp?token=\(secrets[0])"
        let result = try AgentBinary.run(["check", url, "--token", secrets[0], "--header", "X-Api-Key: \(secrets[1])", "--spans", "--json"],
                                         environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.baseURL])
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stdout.contains("\"health_status\":\"healthy\""), result.stdout)
        let records = try await fetchJSON(receiver.baseURL + "/received")
        let exported = String(decoding: try JSONSerialization.data(withJSONObject: records), as: UTF8.self)
        XCTAssertTrue(exported.contains("REDACTED"), "url.full is exported, redacted")
        for secret in secrets {
            XCTAssertFalse(result.stdout.contains(secret), "stdout leaks \(secret)")
            XCTAssertFalse(result.stderr.contains(secret), "stderr leaks \(secret)")
            XCTAssertFalse(exported.contains(secret), "spans leak \(secret)")
        }
    }
}

/// `check` and the whole MCP feature set (issue 14, item 7), against real servers.
final class CheckMCPFeatureTests: XCTestCase {
    func jsonResult(_ result: AgentBinary.Result) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout + result.stderr)
    }

    func testDeepCheckAndToolCall() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let url = mcp.baseURL + "/mcp"
        let listed = try AgentBinary.run(["check", url, "--deep"])
        XCTAssertEqual(listed.status, 0, listed.stdout + listed.stderr)
        XCTAssertTrue(listed.stdout.contains("tools        1"), listed.stdout)

        let called = try AgentBinary.run(["check", url, "--tool", "echo", "--tool-args", #"{"text": "pong-7"}"#, "--expect", "pong-7", "--json"])
        XCTAssertEqual(called.status, 0, called.stdout + called.stderr)
        let object = try jsonResult(called)
        XCTAssertEqual(object["health_status"] as? String, "healthy")
        XCTAssertEqual(object["mcp_tools_count"] as? Int, 1)
        XCTAssertEqual(object["mcp_tool_name"] as? String, "echo")

        let wrong = try AgentBinary.run(["check", url, "--tool", "echo", "--tool-args", #"{"text": "pong-7"}"#, "--expect", "ping", "--json"])
        XCTAssertEqual(wrong.status, 1, "a failing tool check is not success")
        let failed = try jsonResult(wrong)
        XCTAssertEqual(failed["error_type"] as? String, "assertion_failed")
        XCTAssertEqual(failed["mcp_tool_name"] as? String, "echo")
    }

    func testSendInitialized() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let result = try AgentBinary.run(["check", mcp.baseURL + "/mcp", "--send-initialized"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let requests = try await fetchJSON(mcp.baseURL + "/_test/requests") as? [[String: Any]] ?? []
        XCTAssertEqual(requests.compactMap { $0["method"] as? String }, ["POST", "POST", "DELETE"], "initialize, notifications/initialized, DELETE")
    }

    func testModernEraStartsWithDiscover() async throws {
        let modern = try FixtureServer(script: "mcp_modern_stub.py", args: ["{port}"])
        let result = try AgentBinary.run(["check", modern.baseURL + "/mcp", "--era", "modern", "--json"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(try jsonResult(result)["mcp_protocol_version"] as? String, "2026-07-28")
        let received = try await fetchJSON(modern.baseURL + "/_test/requests") as? [Any] ?? []
        XCTAssertEqual(received.count, 1, "server/discover only, no initialize first: \(received)")
    }

    func testHandshakeEraSendsInitializeOnly() async throws {
        let modern = try FixtureServer(script: "mcp_modern_stub.py", args: ["{port}"])
        let result = try AgentBinary.run(["check", modern.baseURL + "/mcp", "--era", "handshake", "--json"])
        XCTAssertEqual(result.status, 1, "the 2026-only stub refuses initialize: " + result.stdout + result.stderr)
        let received = try await fetchJSON(modern.baseURL + "/_test/requests") as? [String] ?? []
        XCTAssertEqual(received, ["initialize"])
    }

    func testFeatureUsageErrorsExitTwo() throws {
        let url = "http://127.0.0.1:1/mcp"
        let table: [([String], String)] = [
            (["check", url, "--tool", "echo", "--tool-args", "[1, 2]"], "--tool-args must be a JSON object"),
            (["check", url, "--tool", "echo", "--tool-args", "{text"], "--tool-args must be a JSON object"),
            (["check", url, "--tool-args", "{}"], "need --tool"),
            (["check", url, "--expect", "x"], "need --tool"),
            (["check", url, "--era", "2026"], "--era must be auto, handshake or modern"),
            (["check", url, "--era", "modern", "--transport", "sse"], "--era modern needs"),
            (["check", url, "--kind", "http", "--deep"], "are for --kind mcp"),
        ]
        for (arguments, expected) in table {
            let result = try AgentBinary.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stdout) \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
    }

    func testHelpSaysExitStatusAndProbeType() throws {
        let help = try AgentBinary.run(["check", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.hasPrefix("OVERVIEW: "), "help is not an error (main: \"Error: OVERVIEW\"): \(help.stdout)")
        let text = help.stdout + help.stderr
        for expected in ["1 degraded, unhealthy or unreachable", "anonymous without credentials", "unauthenticated_liveness when",
                         "--deep", "--tool", "--tool-args", "--expect", "--era", "--send-initialized"] {
            XCTAssertTrue(text.contains(expected), "missing \(expected) in:\n\(text)")
        }
    }
}

/// What `check` says about its own export on stderr (issue 14, item 7).
final class CheckExportDiagnosticsTests: XCTestCase {
    func testExportDiagnosticsAreQuietAndBounded() async throws {
        let mcp = try FixtureServer(script: "mcp_server.py", args: ["json", "{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let delivered = try AgentBinary.run(["check", mcp.baseURL + "/mcp", "--otlp-endpoint", receiver.baseURL])
        XCTAssertEqual(delivered.status, 0, delivered.stdout + delivered.stderr)
        XCTAssertEqual(delivered.stderr, "", "a delivered export and a normal shutdown say nothing")

        // A collector that is down: one line after the probe, and `check` is not held up by retries
        // (main: a "failing ...; retrying" line and 21 s).
        let port = try freeLoopbackPort()
        let started = Date()
        let lost = try AgentBinary.run(["check", mcp.baseURL + "/mcp", "--otlp-endpoint", "http://127.0.0.1:\(port)"])
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(lost.status, 0, "the target is healthy: \(lost.stdout + lost.stderr)")
        XCTAssertLessThan(elapsed, 9, "export is given 5 s after the probe")
        let lines = lost.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, lost.stderr)
        XCTAssertTrue(lost.stderr.hasPrefix("warning: "), lost.stderr)
        XCTAssertTrue(lost.stderr.contains("spans not exported to http://127.0.0.1:\(port)/v1/traces"), lost.stderr)
    }
}
