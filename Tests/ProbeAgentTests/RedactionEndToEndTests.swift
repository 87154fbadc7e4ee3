import Foundation
import HTTPClient
import TestSupport
import XCTest

/// Secrets in query values, fragments and echoed response content never reach what a user sees:
/// `check` text and JSON, spans (`url.full` and messages), `/status` and the log.
final class RedactionEndToEndTests: XCTestCase {
    let secrets = ["s3cr3t-access", "s3cr3t-apikey", "s3cr3t-fragment"]

    /// A URL whose query and fragment carry the secrets (one name percent-encoded), plus an allowlisted `format`.
    func secretURL(_ base: String) -> String {
        "\(base)?format=json&accessToken=\(secrets[0])&api%5Fkey=\(secrets[1])#token=\(secrets[2])"
    }

    func testCheckRedactsQueryValuesAndFragmentsInTextJSONAndSpans() async throws {
        let faults = try FixtureServer(script: "faults_server.py", args: ["{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let url = secretURL(faults.baseURL + "/json")
        let expected = "\(faults.baseURL)/json?format=json&accessToken=REDACTED&api%5Fkey=REDACTED"
        var outputs: [String] = []
        for format in [["--json"], []] {
            let result = try AgentBinary.run(["check", url, "--kind", "http", "--spans"] + format,
                                             environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.baseURL])
            XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
            XCTAssertTrue(result.stdout.contains(expected), result.stdout)
            outputs += [result.stdout, result.stderr]
        }
        let spans = try await receivedSpans(receiver)
        XCTAssertFalse(spans.isEmpty)
        for (span, _, _) in spans {
            XCTAssertEqual(attributeMap(span["attributes"])["url.full"] as? String, expected, span["name"] as? String ?? "")
        }
        let exported = String(decoding: try JSONSerialization.data(withJSONObject: try await fetchJSON(receiver.baseURL + "/received")),
                              as: UTF8.self)
        for secret in secrets {
            for output in outputs { XCTAssertFalse(output.contains(secret), "check output leaks \(secret):\n\(output)") }
            XCTAssertFalse(exported.contains(secret), "spans leak \(secret)")
        }
    }

    /// The target echoes the API key it was sent; a failed `json_fields` assertion on that field
    /// must name the field and the expectation only.
    func testDaemonKeepsQuerySecretsAndEchoedKeysOutOfStatusLogAndSpans() async throws {
        let faults = try FixtureServer(script: "faults_server.py", args: ["{port}"])
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: ["{port}"])
        let apiKey = "s3cr3t-echoed-api-key"
        let config = """
        admin:
          listen: {admin}
        log_level: info
        exporter:
          endpoint: \(receiver.baseURL)
        defaults:
          interval: 1s
          timeout: 800ms
          failure_threshold: 1
        targets:
          - name: echo
            kind: http
            url: "\(secretURL(faults.baseURL + "/echo"))"
            headers: {X-Api-Key: "\(apiKey)"}
            http:
              json_fields: {headers.x-api-key: not-the-key}
        """
        let agent = try RunningAgent(config: config, environment: ["OTEL_BSP_SCHEDULE_DELAY": "200"])
        var status: [String: Any] = [:]
        try await agent.waitFor("the echo target to fail its assertion") {
            status = (try? await agent.status()["echo"]) ?? [:]
            return (status["last_result"] as? [String: Any])?["error_type"] as? String == "assertion_failed"
        }
        let message = (status["last_result"] as? [String: Any])?["message"] as? String
        XCTAssertEqual(message, "json field headers.x-api-key: expected not-the-key")
        XCTAssertEqual(status["url"] as? String, "\(faults.baseURL)/echo?format=json&accessToken=REDACTED&api%5Fkey=REDACTED")
        let (_, statusText) = try await agent.get("/status")

        try await agent.waitFor("spans to be exported") { ((try? await receivedSpans(receiver)) ?? []).count >= 2 }
        agent.signal(SIGTERM)
        XCTAssertTrue(agent.waitForExit(timeout: 20), agent.log)
        let exported = String(decoding: try JSONSerialization.data(withJSONObject: try await fetchJSON(receiver.baseURL + "/received")),
                              as: UTF8.self)
        XCTAssertTrue(exported.contains("json field headers.x-api-key: expected not-the-key"), "the span carries the message")
        for secret in secrets + [apiKey] {
            XCTAssertFalse(statusText.contains(secret), "/status leaks \(secret): \(statusText)")
            XCTAssertFalse(agent.log.contains(secret), "the log leaks \(secret): \(agent.log)")
            XCTAssertFalse(exported.contains(secret), "spans leak \(secret)")
        }
    }
}
