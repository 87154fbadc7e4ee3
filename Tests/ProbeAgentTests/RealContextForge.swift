import Foundation
import HTTPClient
import TestSupport
import XCTest

/// The real IBM ContextForge gateway (PyPI `mcp-contextforge-gateway`, in `.venv-contextforge`,
/// which scripts/bootstrap creates) on 127.0.0.1, with SQLite in a directory of its own. `stop()`
/// and `start()` keep the database, so a restart is the same gateway with a new process (and a new
/// `/version` `uptime_seconds`); `start(jwtSecret:)` rotates the key its tokens are signed with.
final class RealContextForge: @unchecked Sendable {
    static let adminEmail = "admin@example.com"

    let port: Int
    let directory: URL
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var logPath: String { directory.appendingPathComponent("gateway.log").path }
    /// The key the running gateway checks JWTs with (HS256).
    private(set) var jwtSecret: String
    /// How long the last `start()` took from spawn to `/health` answering 200.
    private(set) var lastStartDuration: TimeInterval = 0
    private var process: Process?

    static var venv: URL {
        ProcessInfo.processInfo.environment["PROBE_AGENT_TEST_CONTEXTFORGE_VENV"].map { URL(fileURLWithPath: $0) }
            ?? FixturePaths.repoRoot.appendingPathComponent(".venv-contextforge")
    }

    /// Skips the calling test when scripts/bootstrap could not create the venv (no Python 3.12/3.13).
    static func requireInstalled() throws {
        let gateway = venv.appendingPathComponent("bin/mcpgateway").path
        guard FileManager.default.isExecutableFile(atPath: gateway) else {
            throw XCTSkip("ContextForge is not installed at \(gateway): scripts/bootstrap creates it when a Python 3.12 or 3.13 is found")
        }
    }

    /// Secrets of 64 hex characters: ContextForge refuses to start with short or low-entropy ones.
    static func randomSecret() -> String {
        (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: .min ... .max)) }.joined()
    }

    private let encryptionSecret = RealContextForge.randomSecret()

    /// Creates the gateway's directory; `start()` starts it.
    init(jwtSecret: String = RealContextForge.randomSecret()) throws {
        try Self.requireInstalled()
        self.jwtSecret = jwtSecret
        port = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("contextforge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    private func environment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OTEL_") }
        for key in ["HOST", "PORT", "DATABASE_URL", "MCG_HOST", "MCG_PORT"] { env[key] = nil }
        let settings: [String: String] = [
            "JWT_SECRET_KEY": jwtSecret,
            "AUTH_ENCRYPTION_SECRET": encryptionSecret,  // the same across restarts: it encrypts stored credentials
            "DATABASE_URL": "sqlite:///" + directory.appendingPathComponent("gateway.db").path,
            "PLATFORM_ADMIN_EMAIL": Self.adminEmail,
            "PLATFORM_ADMIN_PASSWORD": "Probe-Agent-Admin-" + encryptionSecret.prefix(16),
            "DEFAULT_USER_PASSWORD": "Probe-Agent-User-" + encryptionSecret.suffix(16),
            "MCPGATEWAY_UI_ENABLED": "false",
            "MCPGATEWAY_ADMIN_API_ENABLED": "false",
            "CACHE_TYPE": "none",
            // The registered peer is on 127.0.0.1, which SSRF protection refuses by default.
            "SSRF_ALLOW_LOCALHOST": "true",
            "SSRF_ALLOW_PRIVATE_NETWORKS": "true",
            "HEALTH_CHECK_INTERVAL": "300",
            "JQ_FILTER_WORKERS": "1",
            "REGEX_WORKERS": "1",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        ]
        env.merge(settings) { _, new in new }
        return env
    }

    /// Starts the gateway (with `jwtSecret` when given) and waits until `/health` answers 200.
    func start(jwtSecret: String? = nil) async throws {
        precondition(process == nil, "the gateway is running")
        if let jwtSecret { self.jwtSecret = jwtSecret }
        let started = Date()
        let process = Process()
        // Its own process group (pgid = pid), so that stop() also ends the sandbox workers it forks.
        process.executableURL = venv("bin/python")
        process.arguments = ["-c", "import os, sys; os.setpgid(0, 0); os.execv(sys.argv[1], sys.argv[1:])",
                             venv("bin/mcpgateway").path, "--host", "127.0.0.1", "--port", String(port)]
        process.environment = environment()
        process.currentDirectoryURL = directory
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(240)
        while true {
            if let response = try? await HTTPClient.shared.execute(HTTPRequest(url: baseURL + "/health", timeout: .seconds(2))),
               response.status == 200 { break }
            guard process.isRunning else {
                self.process = nil
                throw FixtureError("ContextForge exited while starting: \(tail())")
            }
            guard Date() < deadline else {
                stop()
                throw FixtureError("ContextForge did not answer /health within 240 s: \(tail())")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        lastStartDuration = Date().timeIntervalSince(started)
    }

    /// SIGKILL to the whole process group: a crash, as far as the gateway can tell.
    func stop() {
        guard let process else { return }
        kill(-process.processIdentifier, SIGKILL)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// An admin JWT minted by the gateway's own utility (`python -m mcpgateway.utils.create_jwt_token`),
    /// signed with `secret` (default: the key the gateway checks with now).
    func mintAdminToken(secret: String? = nil, minutes: Int = 60) throws -> String {
        let process = Process()
        process.executableURL = venv("bin/python")
        process.arguments = ["-m", "mcpgateway.utils.create_jwt_token", "--username", Self.adminEmail, "--exp", String(minutes),
                             "--secret", secret ?? jwtSecret, "--admin"]
        process.environment = environment()
        process.currentDirectoryURL = directory
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let token = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init),
              token.split(separator: ".").count == 3 else {
            throw FixtureError("create_jwt_token failed (exit \(process.terminationStatus))")
        }
        return token
    }

    /// One request to the gateway's API with an admin token.
    func api(_ method: String, _ path: String, token: String, json: String? = nil) async throws -> (status: Int, body: Any?) {
        var request = HTTPRequest(method: method, url: baseURL + path, timeout: .seconds(30))
        request.headers.add("Authorization", "Bearer \(token)")
        if let json {
            request.headers.add("Content-Type", "application/json")
            request.body = Array(json.utf8)
        }
        let response = try await HTTPClient.shared.execute(request)
        return (response.status, try? JSONSerialization.jsonObject(with: Data(response.body)))
    }

    /// `POST /gateways`: registers an MCP server as a peer (the gateway connects to it at once).
    /// Returns the peer's gateway id.
    func register(name: String, url: String, token: String) async throws -> String {
        let (status, body) = try await api("POST", "/gateways", token: token,
                                           json: #"{"name":"\#(name)","url":"\#(url)","transport":"STREAMABLEHTTP"}"#)
        guard (200..<300).contains(status), let id = (body as? [String: Any])?["id"] as? String else {
            throw FixtureError("POST /gateways answered \(status): \(String(describing: body))")
        }
        return id
    }

    /// `/version`'s `uptime_seconds`: whole seconds since the gateway's process started.
    func uptime(token: String) async throws -> Double {
        let (status, body) = try await api("GET", "/version", token: token)
        guard status == 200, let uptime = (body as? [String: Any])?["uptime_seconds"] as? Double else {
            throw FixtureError("GET /version answered \(status)")
        }
        return uptime
    }

    /// A new file holding `text` (a token for the agent) in the gateway's directory, removed with it.
    func file(_ text: String) throws -> String {
        let path = directory.appendingPathComponent("token-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func tail() -> String {
        String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(3000))
    }

    private func venv(_ path: String) -> URL { Self.venv.appendingPathComponent(path) }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
