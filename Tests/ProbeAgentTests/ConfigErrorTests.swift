import XCTest
@testable import ProbeAgent

/// Bad configs and the exact errors they give: file, line, column, field path, what is expected.
final class ConfigErrorTests: XCTestCase {
    static let reservedList = "target, mcp_transport, probe_type, phase, status, from, to, le, quantile, job, instance"

    struct Case {
        var name: String
        var yaml: String
        var env: [String: String] = [:]
        var files: [String: String] = [:]
        var expected: [String]
    }

    static let cases: [Case] = [
        Case(name: "bad YAML syntax", yaml: """
            targets:
              - name: a
                url: "http://127.0.0.1/mcp
            """, expected: ["agent.yaml:3:31: invalid YAML: found unexpected end of stream (while scanning a quoted scalar at line 3)"]),
        Case(name: "duplicate YAML key", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                name: b
            """, expected: ["agent.yaml:4:5: duplicate key 'name' (first at line 2)"]),
        Case(name: "tab indentation", yaml: "targets:\n\t- name: a\n", expected: [
            "agent.yaml:2:1: invalid YAML: found character that cannot start any token (while scanning for the next token at line 2); YAML does not allow tabs for indentation",
        ]),
        Case(name: "empty file", yaml: "# nothing\n", expected: ["agent.yaml: the file is empty (expected a mapping with targets)"]),
        Case(name: "unknown top-level field", yaml: """
            log_levl: info
            targets:
              - {name: a, url: "http://127.0.0.1/mcp"}
            """, expected: ["agent.yaml:1:1: log_levl: unknown field (did you mean 'log_level'?)"]),
        Case(name: "unknown nested field", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                intervall: 10s
                auth: {type: bearer, tokn: x}
            """, expected: [
                "agent.yaml:4:5: targets[0].intervall: unknown field (did you mean 'interval'?)",
                "agent.yaml:5:11: targets[0].auth.token: required field is missing (expected token or token_file: the bearer token)",
                "agent.yaml:5:26: targets[0].auth.tokn: unknown field (did you mean 'token'?)",
            ]),
        Case(name: "unknown field with nothing near", yaml: """
            scheduler: {concurrency_limit_max: 3}
            targets: []
            discovery: {contextforge: {url: "https://gw.example.com", token: t}}
            """, expected: ["agent.yaml:1:13: scheduler.concurrency_limit_max: unknown field (expected 'max_concurrency')"]),
        Case(name: "missing url and name", yaml: """
            targets:
              - kind: http
            """, expected: [
                "agent.yaml:2:5: targets[0].name: required field is missing (expected a unique name of letters, digits, '.', '_', '-')",
                "agent.yaml:2:5: targets[0].url: required field is missing (expected an http:// or https:// URL)",
            ]),
        Case(name: "no targets at all", yaml: "log_level: info\n", expected: [
            "agent.yaml:1:1: targets: no targets (expected a list of targets, or discovery.contextforge)",
        ]),
        Case(name: "empty target list", yaml: "log_level: info\ntargets: []\n", expected: [
            "agent.yaml:2:10: targets: no targets (expected a list of targets, or discovery.contextforge)",
        ]),
        Case(name: "bad URL scheme and name", yaml: """
            targets:
              - name: "payments mcp"
                url: ftp://files.example.com/x
              - name: b
                url: "https://user:pw@/mcp"
            """, expected: [
                "agent.yaml:2:11: targets[0].name: \"payments mcp\" is not a valid name (expected letters, digits, '.', '_', '-')",
                "agent.yaml:3:10: targets[0].url: \"ftp://files.example.com/x\" is not an http:// or https:// URL with a host",
                "agent.yaml:5:10: targets[1].url: \"https://REDACTED:REDACTED@/mcp\" is not an http:// or https:// URL with a host",
            ]),
        Case(name: "bad durations", yaml: """
            defaults:
              interval: 0s
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                timeout: 5x
                failing_interval: 30
            """, expected: [
                "agent.yaml:2:13: defaults.interval: \"0s\" must be greater than 0",
                "agent.yaml:6:14: targets[0].timeout: \"5x\" is not a duration (expected e.g. 30s, 500ms, 1m)",
                "agent.yaml:7:23: targets[0].failing_interval: \"30\" is not a duration (expected e.g. 30s, 500ms, 1m)",
            ]),
        Case(name: "timeout longer than interval", yaml: """
            defaults:
              interval: 5s
              timeout: 6s
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                interval: 10s
                timeout: 20s
              - name: b
                url: http://127.0.0.1/mcp
                interval: 2s
                timeout: 2s
                failing_interval: 1s
              - name: c
                url: http://127.0.0.1/mcp
                timeout: 1s
                interval: 500ms
            """, expected: [
                "agent.yaml:3:12: defaults.timeout: 6s must not be longer than interval (5s)",
                "agent.yaml:8:14: targets[0].timeout: 20s must not be longer than interval (10s)",
                "agent.yaml:12:14: targets[1].timeout: 2s must not be longer than failing_interval (1s)",
                "agent.yaml:16:14: targets[2].timeout: 1s must not be longer than interval (500ms)",
            ]),
        Case(name: "timeout from defaults", yaml: """
            defaults: {timeout: 10s}
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                interval: 5s
            """, expected: ["agent.yaml:5:15: targets[0].interval: 5s must not be shorter than timeout (10s, from defaults)"]),
        Case(name: "bad thresholds and concurrency", yaml: """
            scheduler: {max_concurrency: 0}
            defaults: {failure_threshold: three}
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                success_threshold: 0
            """, expected: [
                "agent.yaml:1:30: scheduler.max_concurrency: 0 is out of range (expected 1 to 10000)",
                "agent.yaml:2:31: defaults.failure_threshold: \"three\" is not a whole number (expected 1 to 10000)",
                "agent.yaml:6:24: targets[0].success_threshold: 0 is out of range (expected 1 to 10000)",
            ]),
        Case(name: "bad enum values", yaml: """
            log_level: verbose
            exporter: {protocol: grpc, compression: zstd, sampling: {mode: sometimes}}
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                kind: grpc
              - name: b
                url: http://127.0.0.1/mcp
                transport: websocket
                auth: {type: oauth}
            """, expected: [
                "agent.yaml:1:12: log_level: \"verbose\" is not one of: trace, debug, info, notice, warning, error, critical",
                "agent.yaml:2:22: exporter.protocol: \"grpc\" is not one of: http/protobuf, http/json",
                "agent.yaml:2:41: exporter.compression: \"zstd\" is not one of: gzip, none",
                "agent.yaml:2:64: exporter.sampling.mode: \"sometimes\" is not one of: always_on, ratio, failure_biased",
                "agent.yaml:6:11: targets[0].kind: \"grpc\" is not one of: mcp, http",
                "agent.yaml:9:16: targets[1].transport: \"websocket\" is not one of: auto, streamable_http, sse",
                "agent.yaml:10:18: targets[1].auth.type: \"oauth\" is not one of: none, bearer, basic, client_credentials, authorization_code",
            ]),
        Case(name: "deep check on_failure", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                mcp: {deep: {on_failure: down}}
            """, expected: [
                "agent.yaml:4:30: targets[0].mcp.deep.on_failure: \"down\" is not one of: degraded, unhealthy",
            ]),
        Case(name: "bad booleans, listen address, sampling ratio", yaml: """
            admin: {listen: "::1:9464"}
            exporter: {console: yes, sampling: {mode: ratio, ratio: 1.5}}
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                mcp: {send_initialized: maybe}
            """, expected: [
                "agent.yaml:1:17: admin.listen: \"::1:9464\" is not host:port (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464)",
                "agent.yaml:2:21: exporter.console: \"yes\" is not a boolean (expected true or false)",
                "agent.yaml:2:57: exporter.sampling.ratio: \"1.5\" is not a ratio (expected a number from 0 to 1, e.g. 0.1)",
                "agent.yaml:6:29: targets[0].mcp.send_initialized: \"maybe\" is not a boolean (expected true or false)",
            ]),
        Case(name: "duplicate names", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
              - name: b
                url: http://127.0.0.1/mcp
              - name: a
                url: http://127.0.0.1:9000/mcp
            """, expected: ["agent.yaml:6:11: targets[2].name: duplicate target name \"a\" (already used by targets[0] at line 2)"]),
        Case(name: "unset and empty variables", yaml: """
            targets:
              - name: a
                url: ${A_URL}
                headers: {X-Api-Key: "key-${API_KEY}"}
                auth: {type: bearer, token: "${TOKEN"}
            """, env: ["API_KEY": ""], expected: [
                "agent.yaml:3:10: targets[0].url: environment variable A_URL is not set",
                "agent.yaml:4:26: targets[0].headers.X-Api-Key: environment variable API_KEY is empty",
                "agent.yaml:5:33: targets[0].auth.token: \"${\" without a closing \"}\" (write $${ for a literal ${)",
            ]),
        Case(name: "missing token file", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                auth:
                  type: bearer
                  token_file: /secrets/a.token
            discovery:
              contextforge: {url: "https://gw.example.com", token_file: /secrets/empty}
            """, files: ["/secrets/empty": "\n"], expected: [
                "agent.yaml:6:19: targets[0].auth.token_file: cannot read /secrets/a.token (no such file)",
                "agent.yaml:8:61: discovery.contextforge.token_file: /secrets/empty is empty",
            ]),
        Case(name: "basic auth without password", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                auth:
                  type: basic
                  username: admin
                  token: abc
            """, expected: [
                "agent.yaml:5:7: targets[0].auth.password: required field is missing (expected password or password_file: the password)",
                "agent.yaml:7:14: targets[0].auth.token: does not apply to auth type basic (it takes username, password, password_file)",
            ]),
        Case(name: "client_credentials without token_url", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                auth: {type: client_credentials, client_id: c, client_secret: s}
            """, expected: [
                "agent.yaml:4:11: targets[0].auth.token_url: required field is missing (expected the OAuth token endpoint URL)",
            ]),
        Case(name: "authorization_code without a token source", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                auth: {type: authorization_code, client_id: c, token_env: "not-a-name"}
            """, expected: [
                "agent.yaml:4:11: targets[0].auth.token_url: required field is missing (expected the OAuth token endpoint URL, needed for refresh)",
                "agent.yaml:4:63: targets[0].auth.token_env: \"not-a-name\" is not an environment variable name (expected letters, digits, _)",
            ]),
        Case(name: "on_token_failure: unknown value, and on static credentials", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                auth: {type: client_credentials, token_url: "http://127.0.0.1/t", client_id: c, client_secret: s, on_token_failure: ignore}
              - name: b
                url: http://127.0.0.1/mcp
                auth: {type: bearer, token: t, on_token_failure: liveness}
            """, expected: [
                "agent.yaml:4:121: targets[0].auth.on_token_failure: \"ignore\" is not one of: degraded, liveness",
                "agent.yaml:7:54: targets[1].auth.on_token_failure: does not apply to auth type bearer (it takes token, token_file)",
            ]),
        Case(name: "client certificate without key", yaml: """
            targets:
              - name: a
                url: https://127.0.0.1/mcp
                tls:
                  ca_file: /etc/ca.pem
                  cert_file: /etc/client.pem
            """, files: ["/etc/ca.pem": "CA", "/etc/client.pem": "CERT"], expected: [
                "agent.yaml:6:18: targets[0].tls.cert_file: needs key_file too (a client certificate is used with its key)",
            ]),
        Case(name: "invalid regex and status", yaml: """
            targets:
              - name: a
                kind: http
                url: http://127.0.0.1/healthz
                http:
                  method: get
                  expected_status: [200, "2xy", "204-200", 700]
                  body_matches: ["(unclosed"]
                  header_matches: {Content-Type: "[json"}
              - name: b
                kind: http
                url: http://127.0.0.1/healthz
                http: {expected_status: []}
            """, expected: [
                "agent.yaml:6:15: targets[0].http.method: \"get\" is not an HTTP method (expected e.g. GET, HEAD, POST)",
                "agent.yaml:7:30: targets[0].http.expected_status[1]: \"2xy\" is not a status (expected e.g. 200, 2xx or 200-204, codes 100-599)",
                "agent.yaml:7:37: targets[0].http.expected_status[2]: \"204-200\" is not a status (expected e.g. 200, 2xx or 200-204, codes 100-599)",
                "agent.yaml:7:48: targets[0].http.expected_status[3]: \"700\" is not a status (expected e.g. 200, 2xx or 200-204, codes 100-599)",
                "agent.yaml:8:22: targets[0].http.body_matches[0]: \"(unclosed\" is not a valid regular expression",
                "agent.yaml:9:38: targets[0].http.header_matches.Content-Type: \"[json\" is not a valid regular expression",
                "agent.yaml:13:29: targets[1].http.expected_status: is empty (expected e.g. [200] or [2xx, 304])",
            ]),
        Case(name: "shard out of range", yaml: """
            shard: 3/3
            targets:
              - {name: a, url: "http://127.0.0.1/mcp"}
            """, expected: ["agent.yaml:1:8: shard: \"3/3\" is not a shard (expected i/n with 0 <= i < n <= 1000, e.g. 0/3)"]),
        Case(name: "options of the other kind", yaml: """
            targets:
              - name: a
                kind: http
                url: http://127.0.0.1/healthz
                transport: sse
                mcp: {send_initialized: true}
              - name: b
                url: http://127.0.0.1/mcp
                http: {method: GET}
            """, expected: [
                "agent.yaml:5:16: targets[0].transport: applies only to kind mcp (this target is kind http)",
                "agent.yaml:6:10: targets[0].mcp: applies only to kind mcp (this target is kind http)",
                "agent.yaml:9:11: targets[1].http: applies only to kind http (this target is kind mcp)",
            ]),
        Case(name: "wrong shapes", yaml: """
            targets:
              name: a
            """, expected: ["agent.yaml:2:3: targets: expected a list, got a mapping"]),
        Case(name: "restart detection", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                restart_detection:
                  - {header: X-Instance-Id, mode: decreases}
                  - {json_field: uptime, mode: grows}
                  - {url: "http://127.0.0.1/version"}
            """, expected: [
                "agent.yaml:5:39: targets[0].restart_detection[0].mode: applies only to json_field signals",
                "agent.yaml:6:36: targets[0].restart_detection[1].mode: \"grows\" is not one of: changes, decreases",
                "agent.yaml:7:9: targets[0].restart_detection[2]: expected header: NAME or json_field: PATH",
            ]),
        Case(name: "restart document auth", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                restart_detection:
                  - {json_field: uptime, auth: {type: bearer, token: t}}
                  - {header: X-Instance-Id, auth: {type: none}}
                  - {json_field: pod, url: "http://127.0.0.1/version", auth: {type: client_credentials, token_url: "http://127.0.0.1/t", client_id: c, client_secret: s}}
                  - {json_field: uptime_seconds, url: "http://127.0.0.1/v2", auth: {type: bearer, token: one}}
                  - {json_field: host, url: "http://127.0.0.1/v2", auth: {type: bearer, token: two}}
            """, expected: [
                "agent.yaml:5:36: targets[0].restart_detection[0].auth: applies only with url: (the probe's own answer is read with the target's auth)",
                "agent.yaml:6:39: targets[0].restart_detection[1].auth: applies only to json_field signals",
                "agent.yaml:7:73: targets[0].restart_detection[2].auth.type: \"client_credentials\" is not one of: none, bearer, basic",
                "agent.yaml:9:22: targets[0].restart_detection[4].json_field: reads the same url as restart_detection[3] with other auth; give both the same auth",
            ]),
        Case(name: "more labels than a root span has room for", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                labels: {\((0...32).map { "l\($0): v" }.joined(separator: ", "))}
            """, expected: ["agent.yaml:4:13: targets[0].labels: too many labels (33; at most 32 per target)"]),
        Case(name: "label names the agent's series already carry", yaml: """
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                labels: {team: a, target: x, job: y, le: z, status: s, source: contextforge}
            """, expected: [
                "agent.yaml:4:31: targets[0].labels.target: \"target\" is reserved: the agent, Prometheus or the collector already put this label on the target's series (reserved: \(reservedList))",
                "agent.yaml:4:39: targets[0].labels.job: \"job\" is reserved: the agent, Prometheus or the collector already put this label on the target's series (reserved: \(reservedList))",
                "agent.yaml:4:46: targets[0].labels.le: \"le\" is reserved: the agent, Prometheus or the collector already put this label on the target's series (reserved: \(reservedList))",
                "agent.yaml:4:57: targets[0].labels.status: \"status\" is reserved: the agent, Prometheus or the collector already put this label on the target's series (reserved: \(reservedList))",
            ]),
    ]

    func testEachBadConfigGivesItsErrors() {
        for testCase in Self.cases {
            let errors = ConfigFixture.errors(testCase.yaml, env: testCase.env, files: testCase.files)
            XCTAssertEqual(errors, testCase.expected, testCase.name)
        }
    }

    func testErrorsNeverQuoteSecrets() {
        let yaml = """
            exporter:
              headers: {authorization: "Bearer hdr-s3cret", "bad name": "hdr-s3cret"}
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                headers: {X-Api-Key: "${KEY}", X-Other: "line\\nbreak-s3cret"}
                auth:
                  type: bearer
                  token: tok-s3cret
                  token_file: /secrets/t
                  password: pw-s3cret
              - name: b
                url: http://127.0.0.1/mcp
                auth: {type: basic, username: u, password: [pw-s3cret], client_secret: "cs-s3cret"}
              - name: c
                url: http://127.0.0.1/mcp
                auth: {type: bearer, token: "tok-s3cret${"}
              - name: d
                url: http://127.0.0.1/mcp
                auth: {type: bearer, token: "unterminated-s3cret
            """
        for text in [yaml, String(yaml.split(separator: "\n").dropLast(3).joined(separator: "\n"))] {
            let errors = ConfigFixture.errors(text, env: ["KEY": "env-s3cret"], files: ["/secrets/t": "file-s3cret"])
            XCTAssertFalse(errors.isEmpty)
            for error in errors {
                XCTAssertFalse(error.contains("s3cret"), error)
            }
        }
    }

    func testAllErrorsAreCollectedInFileOrder() {
        let errors = ConfigFixture.errors("""
            targets:
              - name: a
                url: http://127.0.0.1/mcp
                interval: nope
            log_level: loud
            admin: {listen: nowhere}
            """)
        XCTAssertEqual(errors.count, 3)
        XCTAssertEqual(errors.map { $0.split(separator: ":")[1] }, ["4", "5", "6"])
    }

    func testDescriptionWithoutPosition() {
        let error = ConfigError(file: "agent.yaml", line: nil, column: nil, path: "targets", message: "m")
        XCTAssertEqual(error.description, "agent.yaml: targets: m")
        let errors = ConfigErrors([error, ConfigError(file: "f", line: 3, column: nil, path: "", message: "n")])
        XCTAssertEqual(errors.description, "agent.yaml: targets: m\nf:3: n")
    }
}
