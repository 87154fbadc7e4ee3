import Foundation
import HTTPClient
import TestSupport
import Tracing
import XCTest
@testable import ProbeLogic

/// One fixture server for a whole test class: started on first use, stopped in `class tearDown`.
typealias SharedServer = SharedFixture

extension SharedServer where Value == FixtureServer {
    convenience init(script: String = "faults_server.py", args: [String] = ["{port}"], mcpMajor: Int = 2) {
        self.init(make: { try FixtureServer(script: script, args: args, mcpMajor: mcpMajor) }, stop: { $0.stop() })
    }
}

extension ProbeHarness {
    /// Runs one prober through `ProbeRunner.run`, as the configured one would run.
    func run(_ prober: any Prober, _ target: Target) async -> (ProbeReport, [SpanData], elapsed: Duration) {
        let start = ContinuousClock.now
        let run = await runner.run(target, prober: prober)
        let elapsed = ContinuousClock.now - start
        await processor.forceFlush(deadline: .now + .seconds(5))
        return (run.report, sink.spans.filter { $0.context.traceID == run.traceID }, elapsed)
    }
}

/// A fresh connection per call, so the test itself leaves no pooled socket on the server.
func fetchJSON(_ url: String) async throws -> Any {
    var request = HTTPRequest(url: url)
    request.freshConnection = true
    let response = try await HTTPClient.shared.execute(request)
    return try JSONSerialization.jsonObject(with: Data(response.body))
}

/// TCP connections to 127.0.0.1:`port` that neither side has closed (server side of /proc/net/tcp).
func establishedConnections(toPort port: Int) -> Int {
    guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return -1 }
    let local = String(format: ":%04X", port)
    return table.split(separator: "\n").dropFirst().filter { line in
        let fields = line.split(separator: " ")
        return fields.count > 3 && fields[1].hasSuffix(local) && fields[3] == "01"
    }.count
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(_ timeout: Duration = .seconds(3), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// A faults server speaking HTTPS with a fresh self-signed certificate for 127.0.0.1.
struct TLSFaultsServer {
    var server: FixtureServer
    var certificate: SelfSignedCertificate
    var certFile: String { certificate.certFile }
    var baseURL: String { "https://127.0.0.1:\(server.port)" }

    static func start() throws -> TLSFaultsServer {
        let certificate = try SelfSignedCertificate.make()
        let server = try FixtureServer(script: "faults_server.py", args: ["{port}", "--tls", certificate.certFile, certificate.keyFile])
        return TLSFaultsServer(server: server, certificate: certificate)
    }

    func stop() {
        server.stop()
        certificate.remove()
    }

    func notAfter() throws -> Date { try certificate.notAfter() }
}
