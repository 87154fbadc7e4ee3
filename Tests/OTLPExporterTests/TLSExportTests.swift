import Foundation
import HTTPClient
import Testing
import TestSupport
import Tracing
@testable import OTLPExporter

/// OTLP over HTTPS to a receiver that requires a client certificate: the CA file and the client
/// certificate and key (OTEL_EXPORTER_OTLP_CERTIFICATE / _CLIENT_CERTIFICATE / _CLIENT_KEY) are
/// what make the export go through; without either it is refused and counted.
@Suite struct TLSExportTests {
    @Test func mutualTLSExportNeedsTheCAAndTheClientCertificate() async throws {
        let serverCertificate = try SelfSignedCertificate.make(days: 5)
        let clientCertificate = try SelfSignedCertificate.make(days: 5)
        defer { serverCertificate.remove(); clientCertificate.remove() }
        let receiver = try FixtureServer(script: "otlp_receiver.py", args: [
            "{port}", "--tls", serverCertificate.certFile, serverCertificate.keyFile, "--client-ca", clientCertificate.certFile,
        ])
        defer { receiver.stop() }
        let base = "https://127.0.0.1:\(receiver.port)"
        let tls = TLSOptions(caFile: serverCertificate.certFile, clientCertFile: clientCertificate.certFile,
                             clientKeyFile: clientCertificate.keyFile)

        func export(ca: String?, clientCert: String?, clientKey: String?) async -> (ExportResult, ExporterStats) {
            var config = SignalConfig(signal: .traces, endpoint: base + "/v1/traces")
            config.compression = .gzip
            config.certificateFile = ca
            config.clientCertificateFile = clientCert
            config.clientKeyFile = clientKey
            config.timeout = .seconds(5)
            let exporter = OTLPHTTPSpanExporter(config: config, transport: HTTPClient.shared, retryPolicy: RetryPolicy(maxAttempts: 1))
            let result = await exporter.export([Sample.span("over-mtls")])
            return (result, exporter.stats)
        }

        let (ok, okStats) = await export(ca: serverCertificate.certFile, clientCert: clientCertificate.certFile,
                                         clientKey: clientCertificate.keyFile)
        #expect(ok == .success)
        #expect(okStats.exported == 1)

        let (noClientCert, noClientStats) = await export(ca: serverCertificate.certFile, clientCert: nil, clientKey: nil)
        #expect(noClientCert == .failure)
        #expect(noClientStats.dropped == 1)

        let (noCA, noCAStats) = await export(ca: nil, clientCert: clientCertificate.certFile, clientKey: clientCertificate.keyFile)
        #expect(noCA == .failure)
        #expect(noCAStats.dropped == 1)

        var read = HTTPRequest(url: base + "/received")
        read.tls = tls
        let response = try await HTTPClient.shared.execute(read)
        let records = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] ?? []
        #expect(records.count == 1, "only the export with both the CA and the client certificate arrived")
        let decoded = records.first?["decoded"] as? [String: Any]
        #expect("\(decoded ?? [:])".contains("over-mtls"))
    }
}
