import Foundation
import HTTPClient
import ProbeLogic
import Synchronization
import TestSupport
import Tracing
import XCTest

/// Collects finished spans of the auth tests.
final class AuthSpanCollector: SpanExporter {
    private let stored = Mutex<[SpanData]>([])
    var spans: [SpanData] { stored.withLock { $0 } }
    func export(_ batch: [SpanData]) async -> ExportResult {
        stored.withLock { $0.append(contentsOf: batch) }
        return .success
    }
}

/// Traced HTTP whose spans can be inspected.
struct AuthTracing {
    let collector = AuthSpanCollector()
    let processor: SimpleSpanProcessor
    let tracer: Tracer
    let http: TracedHTTP

    init() {
        processor = SimpleSpanProcessor(exporter: collector)
        tracer = Tracer(scope: .test, processor: processor)
        http = TracedHTTP(client: HTTPClient.shared, tracer: tracer, userAgent: "probe-agent-test")
    }

    func spans() async -> [SpanData] {
        await processor.forceFlush(deadline: .now + .seconds(5))
        return collector.spans
    }
}

/// A settable wall clock for token expiry.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// The OAuth test peer (Tests/Fixtures/oauth_server.py) and its control endpoints.
struct OAuthPeer {
    let server: FixtureServer
    var tokenURL: String { server.baseURL + "/token" }

    init(_ config: [String: Any?] = [:]) async throws {
        server = try FixtureServer(script: "oauth_server.py")
        try await configure(config)
    }

    func configure(_ config: [String: Any?]) async throws {
        let object = config.mapValues { $0 ?? NSNull() }
        var request = HTTPRequest(method: "POST", url: server.baseURL + "/_test/config",
                                  body: Array(try JSONSerialization.data(withJSONObject: object)))
        request.headers.add("Content-Type", "application/json")
        let response = try await HTTPClient.shared.execute(request)
        XCTAssertEqual(response.status, 200)
    }

    func counts() async throws -> [String: Int] {
        let response = try await HTTPClient.shared.execute(HTTPRequest(url: server.baseURL + "/_test/counts"))
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Int] ?? [:]
    }

    func count(_ name: String) async throws -> Int { try await counts()[name] ?? 0 }

    /// Token requests seen: form fields and the Authorization header.
    func tokenRequests() async throws -> [(form: [String: String], authorization: String?)] {
        let response = try await HTTPClient.shared.execute(HTTPRequest(url: server.baseURL + "/_test/requests"))
        let list = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] ?? []
        return list.map { ($0["form"] as? [String: String] ?? [:], $0["authorization"] as? String) }
    }
}

/// Fails when any secret occurs in notes, verdict details, or anywhere on the spans.
func assertNoSecrets(_ secrets: [String], spans: [SpanData], texts: [String] = [],
                     file: StaticString = #filePath, line: UInt = #line) {
    var haystack = texts
    func flatten(_ value: AttributeValue) -> String {
        switch value {
        case .string(let s): s
        case .array(let values): values.map(flatten).joined(separator: " ")
        case .map(let attributes): attributes.map { $0.key + "=" + flatten($0.value) }.joined(separator: " ")
        case .bytes(let bytes): String(decoding: bytes, as: UTF8.self)
        default: "\(value)"
        }
    }
    for span in spans {
        haystack.append(span.name)
        haystack.append(span.status.message)
        haystack += span.attributes.map { $0.key + "=" + flatten($0.value) }
        for event in span.events {
            haystack.append(event.name)
            haystack += event.attributes.map { $0.key + "=" + flatten($0.value) }
        }
    }
    for secret in secrets {
        for text in haystack where text.contains(secret) {
            XCTFail("secret \(secret.prefix(3))… leaked into: \(text)", file: file, line: line)
        }
    }
}

/// A private temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("auth-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Starts the MCP test peer in `mode`, killed (SIGKILL) at the end of the test: it may have inherited
/// a blocked SIGTERM from the Swift thread that spawned it, which would make `stop()` wait forever.
func mcpPeer(_ mode: String, _ test: XCTestCase) throws -> FixtureServer {
    let server = try FixtureServer(script: "mcp_server.py", args: [mode, "{port}"])
    test.addTeardownBlock {
        if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) }
        server.stop()
    }
    return server
}

extension InstrumentationScope {
    /// Tests name their own scope; the agent's is `Telemetry.scope`.
    static let test = InstrumentationScope(name: "test")
}
