import NIOSSL

/// `admin.tls` as a server TLS context, as Prometheus' exporter-toolkit takes it: the server's
/// certificate chain and key; with `client_ca_file`, a client must present a certificate that CA
/// signed (exporter-toolkit's `RequireAndVerifyClientCert`) or the handshake fails.
enum AdminTLS {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func context(_ settings: AdminTLSSettings) throws(Failure) -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(settings.certFile).map { NIOSSLCertificateSource.certificate($0) }
            guard !chain.isEmpty else { throw Failure(description: "admin.tls.cert_file \(settings.certFile): no PEM certificate in it") }
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: settings.keyFile, format: .pem)))
            configuration.minimumTLSVersion = .tlsv12
            if let clientCA = settings.clientCAFile {
                configuration.trustRoots = .file(clientCA)
                configuration.certificateVerification = .noHostnameVerification
            }
            return try NIOSSLContext(configuration: configuration)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "admin.tls: cannot load the certificate, key or client CA (\(error))")
        }
    }
}
