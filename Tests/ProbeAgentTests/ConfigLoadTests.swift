import HTTPClient
import ProbeLogic
import XCTest
@testable import ProbeAgent

/// Valid configs: every field lands where it should, defaults fill the gaps, secrets are resolved.
final class ConfigLoadTests: XCTestCase {
    static let fullYAML = """
        admin:
          listen: "[::1]:9999"
        log_level: debug
        shard: 1/4
        defaults:
          interval: 20s
          timeout: 5s
          failure_threshold: 2
          success_threshold: 2
          failing_interval: 10s
        scheduler:
          max_concurrency: 8
        exporter:
          endpoint: http://collector:4318
          protocol: http/json
          compression: gzip
          timeout: 3s
          headers: {authorization: "Bearer ${OTLP_TOKEN}"}
          file: spans.jsonl
          console: true
          sampling: {mode: failure_biased, ratio: 0.25}
        targets:
          - name: payments-mcp
            url: https://mcp.example.com/mcp
            kind: mcp
            transport: streamable_http
            interval: 15s
            timeout: 2s
            failure_threshold: 5
            success_threshold: 3
            failing_interval: 5s
            labels: {team: payments, tier: 1, note: "$${LITERAL}"}
            headers: {X-Api-Key: "key-${KEY_PART}-end"}
            auth:
              type: authorization_code
              token_file: tokens/payments.json
              token_env: PAYMENTS_TOKEN
              token_url: https://auth.example.com/token
              client_id: prober
              client_secret_file: /secrets/client
              on_token_failure: liveness
            tls: {ca_file: /etc/ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem, insecure_skip_verify: true}
            mcp:
              send_initialized: true
              deep:
                list_tools: false
                on_failure: unhealthy
                tool_call:
                  name: echo
                  arguments: {text: "hi ${KEY_PART}", n: 2, ratio: 0.5, ok: true, none: null, nested: {list: [1, "two"]}}
                  expect_contains: hi
            restart_detection:
              - header: X-Instance-Id
              - {json_field: uptime_seconds, url: "https://gw.example.com/version", mode: decreases, auth: {type: bearer, token: admin-jwt}}
              - {json_field: mcp_runtime.pod_id, mode: changes}
              - {json_field: started_at}
          - name: status-page
            kind: http
            url: http://status.example.com/healthz
            http:
              method: POST
              body: '{"q": 1}'
              expected_status: [200, "2xx", "200-204"]
              body_matches: ok
              body_not_matches: ["error|fail"]
              json_fields: {"status": "ok", "checks.0.state": up}
              header_matches: {Content-Type: "json"}
              follow_redirects: false
          - name: basic-one
            url: http://127.0.0.1:8000/mcp
            auth: {type: basic, username: admin, password_file: /secrets/pw}
          - name: bearer-one
            url: http://127.0.0.1:8000/mcp
            auth: {type: bearer, token: "${BEARER}"}
          - name: cc-one
            url: http://127.0.0.1:8000/mcp
            auth:
              type: client_credentials
              token_url: https://auth.example.com/token
              client_id: c
              client_secret: "${CC_SECRET}"
              scope: "mcp:read"
              resource: https://mcp.example.com
          - name: plain
            url: http://127.0.0.1:8000/mcp
            auth: {type: none}
          - name: deep-shorthand
            url: http://127.0.0.1:8000/mcp
            mcp: {deep: true}
        discovery:
          contextforge:
            url: https://gateway.example.com
            token_file: /secrets/cf
            interval: 2m
            include_inactive: true
        """

    static let environment = ["OTLP_TOKEN": "otlp-t", "KEY_PART": "k1", "BEARER": "bearer-t", "CC_SECRET": "cc-s"]
    static let files = ["/secrets/client": "client-s\n", "/secrets/pw": "  pw-s  ", "/secrets/cf": "cf-jwt\n",
                        "/etc/ca.pem": "CA", "/etc/c.pem": "CERT", "/etc/k.pem": "KEY"]

    func testFullConfigMapsEveryField() throws {
        let config = try ConfigFixture.parse(Self.fullYAML, env: Self.environment, files: Self.files, baseDirectory: "/etc/probe-agent")

        XCTAssertEqual(config.admin.listen, ListenAddress(host: "::1", port: 9999))
        XCTAssertEqual(config.logLevel, "debug")
        XCTAssertEqual(config.shard, Shard(index: 1, count: 4))
        XCTAssertEqual(config.scheduler, SchedulerSettings(maxConcurrency: 8))
        XCTAssertEqual(config.exporter, ExporterSettings(
            endpoint: "http://collector:4318", protocol: .httpJSON, compression: .gzip, timeout: .seconds(3),
            headers: ["authorization": Secret("Bearer otlp-t")], file: "/etc/probe-agent/spans.jsonl", console: true,
            sampling: .failureBiased(ratio: 0.25)))
        XCTAssertEqual(config.discovery, ContextForgeDiscovery(url: "https://gateway.example.com", token: Secret("cf-jwt"),
                                                               interval: .seconds(120), includeInactive: true))
        XCTAssertEqual(config.targets.map(\.target.name), ["payments-mcp", "status-page", "basic-one", "bearer-one", "cc-one", "plain", "deep-shorthand"])

        let payments = config.targets[0]
        XCTAssertEqual(payments, TargetSpec(
            target: Target(
                name: "payments-mcp", url: "https://mcp.example.com/mcp",
                kind: .mcp(MCPOptions(transport: .streamableHTTP, sendInitialized: true, deep: DeepCheck(
                    listTools: false,
                    toolCall: ToolCall(name: "echo",
                                       argumentsJSON: #"{"text":"hi k1","n":2,"ratio":0.5,"ok":true,"none":null,"nested":{"list":[1,"two"]}}"#,
                                       expectContains: "hi"),
                    onFailure: .unhealthy))),
                timeout: .seconds(2),
                headers: [HTTPHeader("X-Api-Key", "key-k1-end")],
                auth: .authorizationCode(StoredToken(tokenFile: "/etc/probe-agent/tokens/payments.json", tokenEnv: "PAYMENTS_TOKEN",
                                                     tokenURL: "https://auth.example.com/token", clientID: "prober",
                                                     clientSecret: Secret("client-s"), onTokenFailure: .liveness)),
                tls: TLSOptions(caFile: "/etc/ca.pem", clientCertFile: "/etc/c.pem", clientKeyFile: "/etc/k.pem", verifyPeer: false),
                policy: HealthPolicy(failureThreshold: 5, successThreshold: 3),
                restartSignals: [
                    .headerChanges(name: "X-Instance-Id"),
                    .jsonFieldDecreases(url: "https://gw.example.com/version", path: "uptime_seconds", auth: .bearer(token: Secret("admin-jwt"))),
                    .jsonFieldChanges(url: nil, path: "mcp_runtime.pod_id"),
                    .jsonFieldChanges(url: nil, path: "started_at"),
                ],
                labels: ["team": "payments", "tier": "1", "note": "${LITERAL}"]),
            interval: .seconds(15), failingInterval: .seconds(5)))

        XCTAssertEqual(config.targets[1], TargetSpec(
            target: Target(
                name: "status-page", url: "http://status.example.com/healthz",
                kind: .http(HTTPCheck(method: "POST", body: #"{"q": 1}"#, expectedStatus: [200...200, 200...299, 200...204],
                                      bodyMatches: [try RegularExpression("ok")], bodyNotMatches: [try RegularExpression("error|fail")],
                                      jsonFields: [JSONFieldAssertion(path: "status", equals: "ok"),
                                                   JSONFieldAssertion(path: "checks.0.state", equals: "up")],
                                      headerMatches: [HeaderAssertion(name: "Content-Type", regex: try RegularExpression("json"))],
                                      followRedirects: false)),
                timeout: .seconds(5), policy: HealthPolicy(failureThreshold: 2, successThreshold: 2)),
            interval: .seconds(20), failingInterval: .seconds(10)))

        XCTAssertEqual(config.targets[2].target.auth, .basic(username: "admin", password: Secret("pw-s")))
        XCTAssertEqual(config.targets[3].target.auth, .bearer(token: Secret("bearer-t")))
        XCTAssertEqual(config.targets[4].target.auth, .clientCredentials(ClientCredentials(
            tokenURL: "https://auth.example.com/token", clientID: "c", clientSecret: Secret("cc-s"),
            scope: "mcp:read", resource: "https://mcp.example.com")))
        XCTAssertEqual(config.targets[5], TargetSpec(
            target: Target(name: "plain", url: "http://127.0.0.1:8000/mcp", timeout: .seconds(5),
                           policy: HealthPolicy(failureThreshold: 2, successThreshold: 2)),
            interval: .seconds(20), failingInterval: .seconds(10)))
        XCTAssertEqual(config.targets[6].target.kind, .mcp(MCPOptions(deep: DeepCheck(listTools: true, toolCall: nil))))
    }

    func testMinimalConfigGetsDefaults() throws {
        let config = try ConfigFixture.parse("""
            targets:
              - name: a
                url: http://127.0.0.1:8000/mcp
            """)
        XCTAssertEqual(config, AgentConfig(
            admin: AdminSettings(listen: ListenAddress(host: "127.0.0.1", port: 9464)), logLevel: "info", shard: nil,
            scheduler: SchedulerSettings(maxConcurrency: 64), exporter: nil,
            targets: [TargetSpec(target: Target(name: "a", url: "http://127.0.0.1:8000/mcp", kind: .mcp(MCPOptions(transport: .auto)),
                                                timeout: .seconds(10), headers: [], auth: .none, tls: TLSOptions()),
                                 interval: .seconds(30), failingInterval: nil)],
            discovery: nil))
    }

    func testMCPEraIsAConfigKey() throws {
        let config = try ConfigFixture.parse("""
            targets:
              - {name: a, url: "http://127.0.0.1:8000/mcp", mcp: {era: handshake}}
              - {name: b, url: "http://127.0.0.1:8000/mcp", mcp: {era: modern}}
            """)
        XCTAssertEqual(config.targets.map(\.target.kind), [.mcp(MCPOptions(era: .handshake)), .mcp(MCPOptions(era: .modern))])
    }

    /// The answer checks of `http:` are keys of `mcp:` too, judging the MCP target's main answer.
    func testMCPTargetsTakeAnswerChecks() throws {
        let config = try ConfigFixture.parse("""
            targets:
              - name: a
                url: http://127.0.0.1:8000/mcp
                mcp:
                  json_fields: {result.serverInfo.name: payments}
                  header_matches: {X-Gateway-Version: '^2[.]'}
                  body_matches: '"tools"'
                  body_not_matches: [experimental]
            """)
        XCTAssertEqual(config.targets.first?.target.kind, .mcp(MCPOptions(expect: AnswerChecks(
            bodyMatches: [try RegularExpression(#""tools""#)], bodyNotMatches: [try RegularExpression("experimental")],
            jsonFields: [JSONFieldAssertion(path: "result.serverInfo.name", equals: "payments")],
            headerMatches: [HeaderAssertion(name: "X-Gateway-Version", regex: try RegularExpression("^2[.]"))]))))
    }

    /// Prometheus' rule for scrape_timeout: with no timeout set anywhere, a target's timeout is the
    /// default (10s) or its interval (and failing_interval), whichever is smaller.
    func testTimeoutFitsTheIntervalWhenNoneIsSet() throws {
        let config = try ConfigFixture.parse("""
            targets:
              - {name: one-second, url: "http://127.0.0.1/mcp", interval: 1s}
              - {name: failing-fast, url: "http://127.0.0.1/mcp", interval: 30s, failing_interval: 3s}
              - {name: equal, url: "http://127.0.0.1/mcp", interval: 2s, timeout: 2s}
              - {name: long, url: "http://127.0.0.1/mcp", interval: 1m}
            """)
        XCTAssertEqual(config.targets.map(\.target.timeout), [.seconds(1), .seconds(3), .seconds(2), .seconds(10)])

        let fromDefaults = try ConfigFixture.parse("""
            defaults: {interval: 2s}
            targets:
              - {name: a, url: "http://127.0.0.1/mcp"}
              - {name: b, url: "http://127.0.0.1/mcp", interval: 500ms}
            """)
        XCTAssertEqual(fromDefaults.targets.map(\.target.timeout), [.seconds(2), .milliseconds(500)])

        let equalInDefaults = try ConfigFixture.parse("""
            defaults: {interval: 5s, timeout: 5s, failing_interval: 5s}
            targets:
              - {name: a, url: "http://127.0.0.1/mcp"}
            """)
        XCTAssertEqual(equalInDefaults.targets.map(\.target.timeout), [.seconds(5)])
    }

    func testSecretsDoNotPrint() throws {
        let config = try ConfigFixture.parse(Self.fullYAML, env: Self.environment, files: Self.files)
        let printed = String(describing: config) + String(reflecting: config)
        XCTAssertTrue(printed.contains("<redacted>"))
        for secret in ["otlp-t", "cf-jwt", "client-s", "pw-s", "bearer-t", "cc-s", "admin-jwt"] {
            XCTAssertFalse(printed.contains(secret), secret)
        }
    }

    func testMergeKeysAndNulls() throws {
        let config = try ConfigFixture.parse("""
            exporter:
            targets:
              - &common
                name: a
                url: http://127.0.0.1/mcp
                interval: 15s
                labels: {team: a}
              - <<: *common
                name: b
                interval: 17s
            """)
        XCTAssertNil(config.exporter)
        XCTAssertEqual(config.targets.map(\.target.name), ["a", "b"])
        XCTAssertEqual(config.targets.map(\.target.url), ["http://127.0.0.1/mcp", "http://127.0.0.1/mcp"])
        XCTAssertEqual(config.targets.map(\.interval), [.seconds(15), .seconds(17)])
        XCTAssertEqual(config.targets.map(\.target.labels), [["team": "a"], ["team": "a"]])
    }

    func testLoadReadsFilesRelativeToTheConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-load-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "file-token\n".write(to: directory.appendingPathComponent("t.token"), atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("agent.yaml").path
        try """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                auth: {type: bearer, token_file: t.token}
              - name: b
                url: http://127.0.0.1/mcp
                auth: {type: bearer, token_file: missing.token}
            """.write(toFile: path, atomically: true, encoding: .utf8)

        XCTAssertThrowsError(try ConfigLoader.load(path: path, environment: [:])) { error in
            XCTAssertEqual((error as? ConfigErrors)?.description,
                           "\(path):7:38: targets[1].auth.token_file: cannot read \(directory.path)/missing.token (no such file)")
        }
        try "targets:\n  - {name: a, url: \"http://127.0.0.1/mcp\", auth: {type: bearer, token_file: t.token}}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: path, environment: [:])
        XCTAssertEqual(config.targets[0].target.auth, .bearer(token: Secret("file-token")))

        XCTAssertThrowsError(try ConfigLoader.load(path: directory.appendingPathComponent("nope.yaml").path, environment: [:])) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.first?.message, "cannot read the config file (no such file)")
        }
    }
}
