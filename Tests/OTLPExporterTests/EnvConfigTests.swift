import Foundation
import HTTPClient
import Testing
import Tracing
@testable import OTLPExporter

@Suite struct EnvConfigTests {
    static func configuration(_ env: [String: String], files: Set<String> = []) throws -> (TelemetryConfiguration, warnings: [String]) {
        try TelemetryConfiguration.fromEnvironment(env, fileExists: { files.contains($0) })
    }

    static func load(_ env: [String: String], files: Set<String> = []) throws -> (traces: SignalConfig, metrics: SignalConfig, warnings: [String]) {
        let (c, warnings) = try configuration(env, files: files)
        return (c.traces.otlp, c.metrics.otlp, warnings)
    }

    @Test func defaults() throws {
        let (traces, metrics, warnings) = try Self.load([:])
        #expect(traces.endpoint == "http://localhost:4318/v1/traces")
        #expect(metrics.endpoint == "http://localhost:4318/v1/metrics")
        #expect(traces.protocol == .httpProtobuf && traces.compression == .none)
        #expect(traces.timeout == .seconds(10))
        let (c, _) = try Self.configuration([:])
        #expect(c.traces.exporter == .otlp && c.metrics.exporter == .otlp)
        #expect(!c.traces.endpointIsSet && !c.traces.exportsOTLP, "the default endpoint is not asked for")
        #expect(traces.maxRequestBytes == 67_108_864 && traces.maxResponseBytes == 4_194_304)
        #expect(traces.resource.attributes["service.name"] == "probe-agent")
        #expect(traces.resource.attributes["telemetry.sdk.name"] == "probe-agent")
        #expect(traces.resource.attributes["telemetry.sdk.language"] == "swift")
        #expect(traces.resource.attributes["telemetry.sdk.version"] == .string(OTLPResource.sdkVersion))
        #expect(warnings.isEmpty)
    }

    @Test(arguments: [
        // (generic, traces-specific, expected traces URL, expected metrics URL)
        ("http://collector:4318", nil, "http://collector:4318/v1/traces", "http://collector:4318/v1/metrics"),
        ("http://collector:4318/", nil, "http://collector:4318/v1/traces", "http://collector:4318/v1/metrics"),
        ("http://collector:4318/mycollector/", nil, "http://collector:4318/mycollector/v1/traces", "http://collector:4318/mycollector/v1/metrics"),
        ("http://collector:4318/mycollector", nil, "http://collector:4318/mycollector/v1/traces", "http://collector:4318/mycollector/v1/metrics"),
        ("https://collector", nil, "https://collector/v1/traces", "https://collector/v1/metrics"),
        ("http://collector:4318?tenant=a", nil, "http://collector:4318/v1/traces?tenant=a", "http://collector:4318/v1/metrics?tenant=a"),
        ("http://collector:4318", "http://other:4318", "http://other:4318/", "http://collector:4318/v1/metrics"),
        ("http://collector:4318", "http://other:4318/custom", "http://other:4318/custom", "http://collector:4318/v1/metrics"),
        (nil, "http://other:4318/v1/traces", "http://other:4318/v1/traces", "http://localhost:4318/v1/metrics"),
        ("", "", "http://localhost:4318/v1/traces", "http://localhost:4318/v1/metrics"),  // empty = unset
    ] as [(String?, String?, String, String)])
    func endpoints(generic: String?, traces: String?, expectedTraces: String, expectedMetrics: String) throws {
        var env: [String: String] = [:]
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = generic
        env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = traces
        let result = try Self.load(env)
        #expect(result.traces.endpoint == expectedTraces)
        #expect(result.metrics.endpoint == expectedMetrics)
    }

    @Test func genericEndpointEndingInSignalPathWarns() throws {
        let result = try Self.load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/v1/traces"])
        #expect(result.traces.endpoint == "http://collector:4318/v1/traces/v1/traces")  // the spec's rule, with a warning
        #expect(result.warnings.contains { $0.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && $0.contains("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") })
    }

    @Test(arguments: ["ftp://collector:21", "collector:4318", "http://", "http://:4318/x", "http://user@/x", "http://collector:43a8"])
    func badEndpointIsAnError(url: String) {
        #expect(throws: OTLPConfigError.self) { try Self.load(["OTEL_EXPORTER_OTLP_ENDPOINT": url]) }
    }

    @Test func badEndpointErrorHidesUserinfo() {
        do {
            _ = try Self.load(["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "gopher://user:pa55@collector"])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"))
            #expect(!"\(error)".contains("pa55"))
        }
    }

    /// A `#` in a password: the endpoint was split at the `#`, `v1/traces` went in before it, and
    /// every line that showed the endpoint showed the password (`http://user:s3cret/v1/traces`),
    /// where every other URL is shown as `HTTPURL.redact` reads it: `REDACTED:REDACTED@collector`.
    @Test(arguments: ["http://user:s3cret#1@collector:4318", "http://s3cret#1@collector:4318/otlp"])
    func endpointIsShownAsEveryURLIs(url: String) {
        do {
            let result = try Self.load(["OTEL_EXPORTER_OTLP_ENDPOINT": url])
            Issue.record("accepted, shown as \(result.traces)")
        } catch {
            #expect("\(error)".contains("http://REDACTED:REDACTED@collector:4318"))
            #expect(!"\(error)".contains("s3cret"))
        }
    }

    @Test func perSignalOverridesEveryOption() throws {
        let files: Set<String> = ["/ca.pem", "/t-ca.pem", "/c.pem", "/k.pem", "/tc.pem", "/tk.pem"]
        let env = [
            "OTEL_EXPORTER_OTLP_HEADERS": "a=1",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "b=2",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2000",
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "3000",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION": "none",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "HTTP/PROTOBUF",
            "OTEL_EXPORTER_OTLP_CERTIFICATE": "/ca.pem",
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "/t-ca.pem",
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": "/c.pem",
            "OTEL_EXPORTER_OTLP_CLIENT_KEY": "/k.pem",
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE": "/tc.pem",
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": "/tk.pem",
        ]
        let (traces, metrics, warnings) = try Self.load(env, files: files)
        #expect(warnings.isEmpty)
        #expect(traces.headers.map(\.name) == ["b"] && metrics.headers.map(\.name) == ["a"])
        #expect(traces.timeout == .seconds(2) && metrics.timeout == .seconds(3))
        #expect(traces.compression == .gzip && metrics.compression == .none)
        #expect(traces.protocol == .httpProtobuf && metrics.protocol == .httpJSON)
        #expect(traces.certificateFile == "/t-ca.pem" && metrics.certificateFile == "/ca.pem")
        #expect(traces.clientCertificateFile == "/tc.pem" && traces.clientKeyFile == "/tk.pem")
        #expect(metrics.clientCertificateFile == "/c.pem" && metrics.clientKeyFile == "/k.pem")
    }

    @Test func headersAreTrimmedAndPercentDecoded() throws {
        let env = ["OTEL_EXPORTER_OTLP_HEADERS": " authorization = Bearer%20s3cr3t , x-empty=,x-eq=a=b,,x-comma=a%2Cb "]
        let (traces, _, warnings) = try Self.load(env)
        #expect(traces.headers == [
            .init("authorization", "Bearer s3cr3t"), .init("x-empty", ""), .init("x-eq", "a=b"), .init("x-comma", "a,b"),
        ])
        #expect(warnings.isEmpty)
    }

    @Test func badHeaderEntriesWarnWithoutTheirValue() throws {
        let env = ["OTEL_EXPORTER_OTLP_HEADERS": "novalue-s3cr3t,bad name=s3cr3t,x-ok=fine,x-bad=%zzs3cr3t"]
        let (traces, _, warnings) = try Self.load(env)
        #expect(traces.headers == [.init("x-ok", "fine")])
        #expect(warnings.count == 3)
        #expect(warnings.allSatisfy { $0.contains("OTEL_EXPORTER_OTLP_HEADERS") && !$0.contains("s3cr3t") })
    }

    /// `%0D%0A` decodes to "\r\n", one Character: it must still be refused (else every export fails).
    @Test func headerValuesWithControlCharactersAreSkipped() throws {
        let env = ["OTEL_EXPORTER_OTLP_HEADERS": "x-crlf=a%0D%0As3cr3t,x-lf=a%0As3cr3t,x-nul=a%00s3cr3t,x-tab=a%09b,x-ok=fine"]
        let (traces, _, warnings) = try Self.load(env)
        #expect(traces.headers == [.init("x-tab", "a\tb"), .init("x-ok", "fine")])
        #expect(warnings.count == 3)
        #expect(warnings.allSatisfy { $0.contains("control character") && !$0.contains("s3cr3t") })
    }

    @Test(arguments: [
        ("0", nil as Duration?, false),
        ("1500", .milliseconds(1500), false),
        ("-5", .seconds(10), true),
        ("10s", .seconds(10), true),
        ("99999999999", .seconds(10), true),
        ("", .seconds(10), false),
    ] as [(String, Duration?, Bool)])
    func timeouts(text: String, expected: Duration?, warns: Bool) throws {
        let result = try Self.load(["OTEL_EXPORTER_OTLP_TIMEOUT": text])
        #expect(result.traces.timeout == expected)
        #expect(result.warnings.isEmpty == !warns)
    }

    @Test func protocolAndCompressionEnums() throws {
        #expect(try Self.load(["OTEL_EXPORTER_OTLP_PROTOCOL": "HTTP/JSON"]).traces.protocol == .httpJSON)
        let unknown = try Self.load(["OTEL_EXPORTER_OTLP_PROTOCOL": "http/thrift", "OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"])
        #expect(unknown.traces.protocol == .httpProtobuf && unknown.traces.compression == .none)
        #expect(unknown.warnings.count == 2)
        do {
            _ = try Self.load(["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc"])
            Issue.record("grpc must be refused")
        } catch let error as OTLPConfigError {
            #expect(error.variable == "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
            #expect(error.description.contains("not supported"))
        }
    }

    @Test func mTLSNeedsBothFilesThatExist() throws {
        #expect(throws: OTLPConfigError.self) {
            try Self.load(["OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": "/c.pem"], files: ["/c.pem"])
        }
        #expect(throws: OTLPConfigError.self) {
            try Self.load(["OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": "/k.pem"], files: ["/k.pem"])
        }
        do {
            _ = try Self.load(["OTEL_EXPORTER_OTLP_CERTIFICATE": "/missing.pem"])
            Issue.record("a missing CA file must be an error")
        } catch let error as OTLPConfigError {
            #expect(error.variable == "OTEL_EXPORTER_OTLP_CERTIFICATE")
        }
        let ok = try Self.load(["OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": "/c.pem", "OTEL_EXPORTER_OTLP_CLIENT_KEY": "/k.pem"],
                               files: ["/c.pem", "/k.pem"])
        #expect(ok.traces.clientKeyFile == "/k.pem")
    }

    @Test func sdkDisabledAndExporterKinds() throws {
        let off = try Self.configuration(["OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"]).0
        #expect(off.traces.exporter == .none && off.metrics.exporter == .none && !off.traces.exportsOTLP)
        let no = try Self.configuration(["OTEL_SDK_DISABLED": "false"])
        #expect(no.0.traces.exporter == .otlp && no.warnings.isEmpty)
        let odd = try Self.configuration(["OTEL_SDK_DISABLED": "yes"])
        #expect(odd.0.traces.exporter == .otlp && odd.warnings.count == 1)
        let kinds = try Self.configuration(["OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none"]).0
        #expect(kinds.traces.exporter == .console && kinds.metrics.exporter == .none)
        let zipkin = try Self.configuration(["OTEL_TRACES_EXPORTER": "zipkin"])
        #expect(zipkin.0.traces.exporter == .otlp && zipkin.warnings.count == 1)
    }

    /// OTLP export is on for a signal when its endpoint, or the generic one, is given.
    @Test func endpointIsSetPerSignal() throws {
        let generic = try Self.configuration(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"]).0
        #expect(generic.traces.exportsOTLP && generic.metrics.exportsOTLP)
        let traces = try Self.configuration(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"]).0
        #expect(traces.traces.exportsOTLP && !traces.metrics.exportsOTLP)
    }

    @Test func exportersFromConfiguration() throws {
        let both = OTLPExporters(try Self.configuration([:]).0)
        #expect(both.spans is OTLPHTTPSpanExporter && both.metrics is OTLPHTTPMetricExporter)
        let mixed = OTLPExporters(try Self.configuration(["OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none"]).0)
        #expect(mixed.spans is OTLPFileExporter && mixed.metrics == nil)
        let off = OTLPExporters(try Self.configuration(["OTEL_SDK_DISABLED": "true"]).0)
        #expect(off.spans == nil && off.metrics == nil)
        let log = LogCapture()
        _ = OTLPExporters(try Self.configuration([:]).0, diagnostics: log.sink)
        #expect(log.lines.contains { $0.contains("http://localhost:4318/v1/traces") })  // the final URL, logged once
        #expect(throws: OTLPConfigError.self) { try Self.configuration(["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]) }
    }

    @Test func resourceAttributes() throws {
        let env = ["OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs, deployment.environment=prod,team=a%2Cb%3Dc ",
                   "OTEL_SERVICE_NAME": "from-name"]
        let r = try Self.load(env).traces.resource.attributes
        #expect(r["service.name"] == "from-name")  // OTEL_SERVICE_NAME wins
        #expect(r["deployment.environment"] == "prod")
        #expect(r["team"] == "a,b=c")
        #expect(r.filter { $0.key == "service.name" }.count == 1)
        let attrsOnly = try Self.load(["OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"]).traces.resource.attributes
        #expect(attrsOnly["service.name"] == "from-attrs")
        let bad = try Self.load(["OTEL_RESOURCE_ATTRIBUTES": "a=1,b=%zz"])
        #expect(bad.traces.resource.attributes["a"] == nil)  // a decoding error discards all
        #expect(bad.warnings.count == 1)
        let sdk = try Self.load(["OTEL_RESOURCE_ATTRIBUTES": "telemetry.sdk.name=opentelemetry"]).traces.resource.attributes
        #expect(sdk["telemetry.sdk.name"] == "probe-agent")
    }

    @Test func descriptionHidesSecrets() throws {
        let env = ["OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer s3cr3t",
                   "OTEL_EXPORTER_OTLP_ENDPOINT": "https://user:pa55word@collector:4318"]
        let (traces, _, _) = try Self.load(env)
        let text = "\(traces)"
        #expect(text.contains("authorization") && text.contains("https://REDACTED:REDACTED@collector:4318/v1/traces"))
        #expect(!text.contains("s3cr3t") && !text.contains("pa55word"))
    }
}

@Suite struct RetryRulesTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 GMT

    @Test(arguments: [200, 202, 204, 299])
    func success(status: Int) {
        #expect(RetryRules.decision(status: status, retryAfter: nil, now: Self.now) == .success)
    }

    @Test(arguments: [429, 502, 503, 504])
    func retryable(status: Int) {
        #expect(RetryRules.decision(status: status, retryAfter: nil, now: Self.now) == .retry(after: nil))
        #expect(RetryRules.decision(status: status, retryAfter: "7", now: Self.now) == .retry(after: .seconds(7)))
    }

    @Test(arguments: [400, 401, 403, 404, 405, 408, 413, 415, 500, 501, 505, 302])
    func dropped(status: Int) {
        #expect(RetryRules.decision(status: status, retryAfter: "1", now: Self.now) == .drop(.httpStatus(status)))
    }

    @Test(arguments: [
        ("0", Duration.zero as Duration?),
        (" 120 ", .seconds(120)),
        ("-1", nil),
        ("1.5", nil),
        ("soon", nil),
        ("Tue, 14 Nov 2023 22:13:25 GMT", .seconds(5)),
        ("Tuesday, 14-Nov-23 22:14:20 GMT", .seconds(60)),
        ("Tue Nov 14 22:13:30 2023", .seconds(10)),
        ("Tue, 14 Nov 2023 22:00:00 GMT", .zero),  // in the past: retry now
    ] as [(String, Duration?)])
    func retryAfter(text: String, expected: Duration?) {
        #expect(RetryAfter.parse(text, now: Self.now) == expected)
    }

    @Test func retryAfterHeaderIsCaseInsensitive() {
        let headers = HTTPHeaders([HTTPHeader("retry-after", "3")])
        #expect(RetryRules.decision(status: 503, headers: headers, now: Self.now) == .retry(after: .seconds(3)))
    }

    @Test func transportErrors() {
        for kind: HTTPClientError.Kind in [.connectionRefused, .timeout, .sendFailed, .receiveFailed, .emptyReply, .connectionReset] {
            #expect(RetryRules.decision(transportError: kind) == .retry(after: nil), "\(kind)")
        }
        for kind: HTTPClientError.Kind in [.tls, .certificateInvalid, .malformedURL, .dns, .tooManyRedirects, .other] {
            #expect(RetryRules.decision(transportError: kind) == .drop(.transport(kind)), "\(kind)")
        }
        #expect(RetryRules.decision(transportError: .responseTooLarge) == .drop(.responseTooLarge))
    }

    @Test func backoffIsExponentialCappedAndJittered() {
        let ceiling = RetryPolicy(base: .seconds(1), cap: .seconds(30), jitter: { $0 })
        #expect((0..<7).map { ceiling.backoff(attempt: $0) } == [1, 2, 4, 8, 16, 30, 30].map { Duration.seconds($0) })
        #expect(ceiling.backoff(attempt: 200) == .seconds(30))
        let full = RetryPolicy(base: .seconds(1), cap: .seconds(30))
        let samples = (0..<200).map { _ in full.backoff(attempt: 3) }
        #expect(samples.allSatisfy { $0 >= .zero && $0 <= .seconds(8) })
        #expect(Set(samples).count > 100)  // actually random
    }
}
