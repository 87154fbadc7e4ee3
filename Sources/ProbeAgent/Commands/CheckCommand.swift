import ArgumentParser
import Foundation
import HTTPClient
import ProbeLogic
import Tracing

/// `probe-agent check URL`: one probe now, printed, with its trace id.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Probe one URL now and print the result.",
        discussion: """
            Exit status: 0 healthy or alive; 1 degraded, unhealthy or unreachable (the status line says which); \
            2 usage error. Degraded is a failure: the target answers but is not fully usable (credentials rejected, \
            a JSON-RPC error, a failing deep check).

            Probe type: anonymous without credentials (a 401/403 then still proves the target is up: alive); \
            authenticated with --token, --token-file or an OAuth token; unauthenticated_liveness when the \
            --oauth-* token cannot be obtained and the probe goes without it.
            """
    )

    @Argument(help: "The endpoint to probe, e.g. http://127.0.0.1:8000/mcp")
    var url: String

    @Option(help: "What the URL serves: mcp or http.")
    var kind: String = "mcp"

    @Option(help: "MCP transport: auto, streamable_http or sse.")
    var transport: String = "auto"

    @Option(help: "MCP protocol era: auto (initialize, then server/discover when the server asks for it), handshake (initialize only) or modern (server/discover first).")
    var era: String = "auto"

    @Flag(help: "MCP: send notifications/initialized after a successful initialize.")
    var sendInitialized = false

    @Flag(help: "MCP deep check: tools/list (the tool count is printed).")
    var deep = false

    @Option(help: "MCP deep check: call this tool once (implies --deep).")
    var tool: String?

    @Option(help: "Arguments of the --tool call, a JSON object (default {}).")
    var toolArgs: String?

    @Option(help: "The --tool call succeeds only when its text result contains this.")
    var expect: String?

    @Option(help: "Name of the target in spans and output (default: the URL's host).")
    var name: String?

    // Unconditional: `--timeout -1s` is a bad value, not a missing one.
    @Option(parsing: .unconditional, help: "Give up after this long, e.g. 10s or 500ms (at most 24h).")
    var timeout: String = "10s"

    @Option(name: .customLong("header"), help: "Extra request header 'Name: value' (repeatable).")
    var headers: [String] = []

    @Option(help: "Bearer token to send.")
    var token: String?

    @Option(help: "File holding the bearer token.")
    var tokenFile: String?

    @Option(help: "OAuth client_credentials: the token endpoint URL (with --oauth-client-id and --oauth-client-secret-file).")
    var oauthTokenURL: String?

    @Option(help: "OAuth client_credentials: the client id.")
    var oauthClientID: String?

    @Option(help: "OAuth client_credentials: file holding the client secret.")
    var oauthClientSecretFile: String?

    @Option(help: "OAuth client_credentials: the scope to ask for.")
    var oauthScope: String?

    @Option(help: "When the OAuth token cannot be obtained: degraded (default) or liveness (401/403 without it is alive).")
    var onTokenFailure: String = "degraded"

    @Option(help: "OTLP/HTTP endpoint to export the probe's spans to (default: $OTEL_EXPORTER_OTLP_ENDPOINT; none: no export).")
    var otlpEndpoint: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Also print the probe's spans.")
    var spans = false

    func run() async throws {
        let target = try makeTarget()
        let telemetry = try Telemetry.forOneShot(otlpEndpoint: otlpEndpoint, environment: ProcessInfo.processInfo.environment)
        let userAgent = "probe-agent/\(ProbeAgentCommand.version)"
        let credentials = OAuthCredentialStore(http: TracedHTTP(client: HTTPClient.shared, tracer: telemetry.tracer, userAgent: userAgent))
        let runner = ProbeRunner(client: HTTPClient.shared, tracer: telemetry.tracer, clientVersion: ProbeAgentCommand.version,
                                 credentials: credentials)
        let run = await runner.run(target)
        await telemetry.shutdown()

        print(json ? ResultText.json(run, url: target.url) : ResultText.human(run, url: target.url))
        if spans { print(SpanTreeText.render(telemetry.collected())) }
        for warning in telemetry.warnings + [telemetry.exportProblem].compactMap({ $0 }) {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        throw ExitCode(run.report.outcome.health.isSuccess ? ExitStatus.success : ExitStatus.probeFailed)
    }

    func makeTarget() throws -> Target {
        guard HTTPURLRule.isValid(url), let parsed = HTTPURL(url) else { throw ValidationError(HTTPURLRule.problem(url)) }
        if let otlpEndpoint, !HTTPURLRule.isValid(otlpEndpoint) {
            throw ValidationError("--otlp-endpoint \(HTTPURLRule.problem(otlpEndpoint))")
        }
        if let name, name.isEmpty || !name.allSatisfy(TargetDecoder.isNameCharacter) {
            throw ValidationError("--name \(name.debugDescription) is not a valid name (expected letters, digits, '.', '_', '-')")
        }
        let timeout: Duration
        switch DurationText.parse(self.timeout) {
        case .success(let duration): timeout = duration
        case .failure(let problem): throw ValidationError("--timeout '\(self.timeout)' \(problem)")
        }
        let kind: Target.Kind
        switch self.kind {
        case "mcp":
            guard let transport = MCPTransport(rawValue: transport) else {
                throw ValidationError("--transport must be auto, streamable_http or sse")
            }
            kind = .mcp(try makeMCPOptions(transport: transport))
        case "http":
            guard era == "auto", !sendInitialized, !deep, tool == nil, toolArgs == nil, expect == nil else {
                throw ValidationError("--era, --send-initialized, --deep, --tool, --tool-args and --expect are for --kind mcp")
            }
            kind = .http(HTTPCheck())
        default: throw ValidationError("--kind must be mcp or http")
        }
        var parsedHeaders: [HTTPHeader] = []
        for header in headers {
            guard let colon = header.firstIndex(of: ":"), colon != header.startIndex else {
                throw ValidationError("--header needs 'Name: value'")
            }
            let name = String(header[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if let problem = HeaderDecoder.problem(name: name, value: value) { throw ValidationError("--header: \(problem)") }
            parsedHeaders.append(HTTPHeader(name, value))
        }
        var auth = AuthConfig.none
        if token != nil, tokenFile != nil { throw ValidationError("use --token or --token-file, not both") }
        if let token {
            guard HTTPHeader.isFieldValue(token) else { throw ValidationError("--token \(HeaderDecoder.valueProblem)") }
            auth = .bearer(token: Secret(token))
        }
        if let tokenFile {
            let text: String
            do { text = try TextFile.contents(of: tokenFile) } catch {
                throw ValidationError("--token-file '\(tokenFile)' cannot be read (\(error))")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw ValidationError("--token-file '\(tokenFile)' is empty") }
            guard HTTPHeader.isFieldValue(token) else { throw ValidationError("--token-file '\(tokenFile)' \(HeaderDecoder.valueProblem)") }
            auth = .bearer(token: Secret(token))
        }
        if let clientCredentials = try makeClientCredentials() {
            guard case .none = auth else { throw ValidationError("use --token/--token-file or --oauth-*, not both") }
            auth = .clientCredentials(clientCredentials)
        }
        return Target(name: name ?? parsed.host, url: url, kind: kind, timeout: timeout,
                      headers: parsedHeaders, auth: auth)
    }

    /// `--era`, `--send-initialized`, `--deep`, `--tool`, `--tool-args`, `--expect`.
    func makeMCPOptions(transport: MCPTransport) throws -> MCPOptions {
        guard let era = MCPEra(rawValue: era) else { throw ValidationError("--era must be auto, handshake or modern") }
        guard era == .auto || transport != .sse else { throw ValidationError("--era \(era.rawValue) needs --transport auto or streamable_http") }
        if tool == nil, toolArgs != nil || expect != nil { throw ValidationError("--tool-args and --expect need --tool") }
        var options = MCPOptions(transport: transport, era: era, sendInitialized: sendInitialized)
        if let tool {
            guard !tool.isEmpty else { throw ValidationError("--tool needs the tool's name") }
            var call = ToolCall(name: tool, expectContains: expect)
            if let toolArgs {
                let object = try? JSONSerialization.jsonObject(with: Data(toolArgs.utf8), options: [.fragmentsAllowed])
                guard object is [String: Any] else {
                    throw ValidationError(#"--tool-args must be a JSON object, e.g. '{"text": "hi"}'"#)
                }
                call.argumentsJSON = toolArgs
            }
            options.deep = DeepCheck(toolCall: call)
        } else if deep {
            options.deep = DeepCheck()
        }
        return options
    }

    /// `--oauth-*`: a client_credentials grant, or nil when none of them is given.
    func makeClientCredentials() throws -> ClientCredentials? {
        guard oauthTokenURL != nil || oauthClientID != nil || oauthClientSecretFile != nil || oauthScope != nil else {
            guard onTokenFailure == "degraded" else { throw ValidationError("--on-token-failure needs --oauth-token-url") }
            return nil
        }
        guard let tokenURL = oauthTokenURL, let clientID = oauthClientID, let secretFile = oauthClientSecretFile else {
            throw ValidationError("--oauth-token-url, --oauth-client-id and --oauth-client-secret-file go together")
        }
        guard HTTPURL(tokenURL) != nil else {
            throw ValidationError("--oauth-token-url '\(HTTPURL.redact(tokenURL))' is not an http:// or https:// URL with a host")
        }
        guard let policy = TokenFailurePolicy(rawValue: onTokenFailure) else {
            throw ValidationError("--on-token-failure must be degraded or liveness")
        }
        guard let text = try? String(contentsOfFile: secretFile, encoding: .utf8) else {
            throw ValidationError("--oauth-client-secret-file '\(secretFile)' cannot be read")
        }
        let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !secret.isEmpty else { throw ValidationError("--oauth-client-secret-file '\(secretFile)' is empty") }
        return ClientCredentials(tokenURL: tokenURL, clientID: clientID, clientSecret: Secret(secret), scope: oauthScope,
                                 onTokenFailure: policy)
    }
}
