import Foundation

/// A fresh self-signed certificate for 127.0.0.1 (SAN IP:127.0.0.1), made with the `openssl` CLI
/// in a temporary directory.
public struct SelfSignedCertificate: Sendable {
    public let directory: URL
    public var certFile: String { directory.appendingPathComponent("cert.pem").path }
    public var keyFile: String { directory.appendingPathComponent("key.pem").path }

    public static func make(days: Int = 30) throws -> SelfSignedCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("probe-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = SelfSignedCertificate(directory: directory)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", certificate.keyFile, "-out", certificate.certFile, "-days", String(days),
                     "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        return certificate
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }

    /// notAfter as `openssl x509 -enddate` prints it (e.g. `Dec 25 04:00:00 2026 GMT`).
    public func opensslEndDate() throws -> String {
        let output = try Self.openssl(["x509", "-enddate", "-noout", "-in", certFile])
        return output.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "notAfter=", with: "")
    }

    /// notAfter as a date.
    public func notAfter() throws -> Date {
        let output = try Self.openssl(["x509", "-enddate", "-noout", "-dateopt", "iso_8601", "-in", certFile])
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "notAfter=", with: "").replacingOccurrences(of: " ", with: "T")
        guard let date = ISO8601DateFormatter().date(from: text) else { throw FixtureError("unparsable enddate \(text)") }
        return date
    }

    @discardableResult
    public static func openssl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureError("openssl \(arguments.first ?? "") failed") }
        return String(decoding: output, as: UTF8.self)
    }
}
