import ProbeLogic
import XCTest
@testable import ProbeAgent

/// The shipped configs load, and `validate` summarises them.
final class ConfigExampleTests: XCTestCase {
    func load(_ relativePath: String, env: [String: String]) throws -> AgentConfig {
        let url = ConfigFixture.repositoryRoot.appendingPathComponent(relativePath)
        let yaml = try String(contentsOf: url, encoding: .utf8)
        // Referenced files (tokens, certificates) exist only on a real host: serve placeholders.
        return try ConfigLoader.parse(yaml: yaml, file: relativePath, environment: env) { _ in "placeholder" }
    }

    func testExampleValidates() throws {
        let config = try load("examples/agent.yaml", env: [
            "OTLP_TOKEN": "t", "SEARCH_API_KEY": "k", "SEARCH_CLIENT_SECRET": "s", "CONTEXTFORGE_TOKEN": "jwt",
        ])
        XCTAssertEqual(config.targets.count, 5)
        XCTAssertEqual(config.warnings, [])
        XCTAssertNotNil(config.discovery)
        XCTAssertEqual(ValidateCommand.summary(config, file: "agent.yaml", shard: Shard(index: 0, count: 3)),
                       "agent.yaml: OK — 5 targets (3 MCP, 2 HTTP); shard 0/3 owns 3 (split 3, 0, 2); "
                       + "discovery from https://gateway.example.com every 1m")
    }

    func testExampleNeedsItsVariables() {
        XCTAssertThrowsError(try load("examples/agent.yaml", env: [:])) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.map(\.message), [
                "environment variable OTLP_TOKEN is not set", "environment variable SEARCH_API_KEY is not set",
                "environment variable SEARCH_CLIENT_SECRET is not set", "environment variable CONTEXTFORGE_TOKEN is not set",
            ])
        }
    }

    func testDemoValidates() throws {
        let config = try load("demo/agent.yaml", env: [
            "DEMO_JSON_URL": "http://127.0.0.1:8001/mcp", "DEMO_SSE_URL": "http://127.0.0.1:8002/mcp",
            "DEMO_AUTH_URL": "http://127.0.0.1:8003/mcp", "DEMO_DOWN_URL": "http://127.0.0.1:8004/mcp", "DEMO_OUTPUT": "/tmp/demo-output",
        ])
        XCTAssertEqual(config.admin.listen.description, "127.0.0.1:9464")
        XCTAssertEqual(config.targets.map(\.target.name), ["demo-json", "demo-sse", "demo-oauth", "demo-down"])
        XCTAssertEqual(config.warnings, [])
        XCTAssertEqual(config.targets.map(\.interval), Array(repeating: .seconds(2), count: 4))
        XCTAssertEqual(config.targets.map(\.target.timeout), Array(repeating: .seconds(1), count: 4))
        XCTAssertEqual(config.targets[2].target.auth, .authorizationCode(StoredToken(tokenEnv: "DEMO_NO_TOKEN")))
        XCTAssertEqual(config.exporter?.file, "/tmp/demo-output/spans.jsonl")
        XCTAssertEqual(config.exporter?.console, false)
        XCTAssertEqual(ValidateCommand.summary(config, file: "demo/agent.yaml", shard: nil),
                       "demo/agent.yaml: OK — 4 targets (4 MCP, 0 HTTP)")
    }

    /// The environment each shipped config documents (its header comment; `scripts/demo` for the demo).
    static let documentedEnvironment: [String: [String: String]] = [
        "examples/agent.yaml": ["OTLP_TOKEN": "t", "SEARCH_API_KEY": "k", "SEARCH_CLIENT_SECRET": "s", "CONTEXTFORGE_TOKEN": "jwt"],
        "demo/agent.yaml": ["DEMO_OUTPUT": "/tmp/demo-output", "DEMO_JSON_URL": "http://127.0.0.1:8001/mcp",
                            "DEMO_SSE_URL": "http://127.0.0.1:8002/mcp", "DEMO_AUTH_URL": "http://127.0.0.1:8003/mcp",
                            "DEMO_DOWN_URL": "http://127.0.0.1:8004/mcp"],
    ]

    /// Every config in examples/ and demo/ validates as shipped, with the real binary and the
    /// files beside it (no stand-ins): `probe-agent validate` exits 0 and prints no warning.
    func testEveryShippedConfigValidatesAsShipped() throws {
        var shipped: [String] = []
        for directory in ["examples", "demo"] {
            let url = ConfigFixture.repositoryRoot.appendingPathComponent(directory)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                shipped.append("\(directory)/\(name)")
            }
        }
        XCTAssertEqual(Set(shipped), Set(Self.documentedEnvironment.keys), "a new shipped config needs its documented environment here")
        for path in shipped.sorted() {
            let file = ConfigFixture.repositoryRoot.appendingPathComponent(path).path
            let result = try AgentBinary.run(["validate", "--config", file], environment: Self.documentedEnvironment[path] ?? [:])
            XCTAssertEqual(result.status, 0, "\(path): \(result.stdout)\(result.stderr)")
            XCTAssertFalse(result.stderr.contains("warning"), "\(path): \(result.stderr)")
        }
    }
}
