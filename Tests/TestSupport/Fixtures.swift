import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Locates the repository and the test-peer Python environment.
public enum FixturePaths {
    /// Repository root, derived from this file's location (Tests/TestSupport/Fixtures.swift).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let fixturesDir: URL = repoRoot.appendingPathComponent("Tests/Fixtures")

    /// The Python interpreter of the test peers' venv (created by scripts/test).
    /// `PROBE_AGENT_TEST_PYTHON` overrides; `PROBE_AGENT_TEST_PYTHON_MCP1` names the mcp 1.x venv.
    public static func python(mcpMajor: Int = 2) -> String {
        let env = ProcessInfo.processInfo.environment
        if mcpMajor == 1 {
            return env["PROBE_AGENT_TEST_PYTHON_MCP1"] ?? repoRoot.appendingPathComponent(".venv-mcp1/bin/python").path
        }
        return env["PROBE_AGENT_TEST_PYTHON"] ?? repoRoot.appendingPathComponent(".venv/bin/python").path
    }

    public static func fixture(_ name: String) -> String { fixturesDir.appendingPathComponent(name).path }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A loopback port that nothing listens on right now (bind to port 0, read it back, close).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw FixtureError("bind() failed") }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// True when a TCP connection to 127.0.0.1:port (or [::1]:port) succeeds.
public func loopbackPortAccepts(_ port: Int, ipv6: Bool = false) -> Bool {
    if ipv6 {
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_port = in_port_t(UInt16(port).bigEndian)
        addr.sin6_addr = in6addr_loopback
        return connects(to: addr, family: AF_INET6)
    }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return connects(to: addr, family: AF_INET)
}

private func connects<Address>(to address: Address, family: Int32) -> Bool {
    let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = address
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
    } == 0
}

/// A test peer process (Python fixture server) listening on a loopback port.
/// Stopped by `stop()` or when released.
public final class FixtureServer: @unchecked Sendable {
    public let port: Int
    public let process: Process
    public let logFile: URL
    /// Listening on ::1 instead of 127.0.0.1 (fixtures started with `--ipv6`).
    public let ipv6: Bool
    public var baseURL: String { ipv6 ? "http://[::1]:\(port)" : "http://127.0.0.1:\(port)" }

    private let script: String
    private let mcpMajor: Int
    private let environment: [String: String]
    private let startupTimeout: TimeInterval

    /// Starts `python <script> <args...>` with `{port}` in args replaced by `port` (default: a free
    /// port), and waits until the port accepts connections (on ::1 when `args` has `--ipv6`).
    public init(script: String, args: [String] = ["{port}"], port: Int? = nil, mcpMajor: Int = 2,
                environment: [String: String] = [:], startupTimeout: TimeInterval = 20) throws {
        ipv6 = args.contains("--ipv6")
        self.script = script
        self.mcpMajor = mcpMajor
        self.environment = environment
        self.startupTimeout = startupTimeout
        let python = FixturePaths.python(mcpMajor: mcpMajor)
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw FixtureError("test-peer Python not found at \(python); run scripts/test (it creates the venv)")
        }
        let port = try port ?? freeLoopbackPort()
        self.port = port
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [FixturePaths.fixture(script)] + args.map { $0.replacingOccurrences(of: "{port}", with: String(port)) }
        var env = ProcessInfo.processInfo.environment
        env["PYTHONUNBUFFERED"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("fixture-\(script)-\(port).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        self.logFile = log
        self.process = process
        try process.run()
        let deadline = Date().addingTimeInterval(startupTimeout)
        while !loopbackPortAccepts(port, ipv6: ipv6) {
            if !process.isRunning {
                throw FixtureError("fixture \(script) exited early: \(Self.tail(log))")
            }
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw FixtureError("fixture \(script) did not listen on \(port) within \(startupTimeout)s: \(Self.tail(log))")
            }
            usleep(50_000)
        }
    }

    /// The same script started again on the same port with `args` (a restarted server, e.g. with
    /// another instance identity): this one is stopped first, the new one waited for.
    public func restarted(args: [String]) throws -> FixtureServer {
        stop()
        return try FixtureServer(script: script, args: args, port: port, mcpMajor: mcpMajor,
                                 environment: environment, startupTimeout: startupTimeout)
    }

    /// SIGKILL: a child started from a cooperative-pool thread inherits that thread's blocked
    /// signal mask, so SIGTERM may never arrive. Test peers need no graceful shutdown.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public var log: String { Self.tail(logFile) }

    deinit { stop() }

    static func tail(_ url: URL) -> String {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return String(text.suffix(2000))
    }
}
