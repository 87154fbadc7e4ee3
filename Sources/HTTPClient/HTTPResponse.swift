import Foundation

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var timings: PhaseTimings
    /// "1.0", "1.1", "2" or "3".
    public var httpVersion: String?
    public var peerAddress: String?
    public var peerPort: Int?
    /// Only when the request asked for it and a TLS handshake happened.
    public var peerCertificate: PeerCertificate?
    public var effectiveURL: String?
    public var redirectCount: Int

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], timings: PhaseTimings = .zero,
                httpVersion: String? = nil, peerAddress: String? = nil, peerPort: Int? = nil,
                peerCertificate: PeerCertificate? = nil, effectiveURL: String? = nil, redirectCount: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timings = timings
        self.httpVersion = httpVersion
        self.peerAddress = peerAddress
        self.peerPort = peerPort
        self.peerCertificate = peerCertificate
        self.effectiveURL = effectiveURL
        self.redirectCount = redirectCount
    }
}

/// libcurl's cumulative timers, each measured from the start of the transfer.
public struct PhaseTimings: Sendable, Equatable {
    public var nameLookup: Duration
    public var connect: Duration
    public var appConnect: Duration
    public var preTransfer: Duration
    public var startTransfer: Duration
    public var total: Duration

    public init(nameLookup: Duration = .zero, connect: Duration = .zero, appConnect: Duration = .zero,
                preTransfer: Duration = .zero, startTransfer: Duration = .zero, total: Duration = .zero) {
        self.nameLookup = nameLookup
        self.connect = connect
        self.appConnect = appConnect
        self.preTransfer = preTransfer
        self.startTransfer = startTransfer
        self.total = total
    }

    public static let zero = PhaseTimings()

    /// Per-phase durations named as blackbox_exporter names them; `tls` only when a handshake happened.
    public var phases: [(name: String, duration: Duration)] {
        func span(_ from: Duration, _ to: Duration) -> Duration { max(.zero, to - from) }
        var result: [(name: String, duration: Duration)] = [
            ("resolve", max(.zero, nameLookup)),
            ("connect", span(nameLookup, connect)),
        ]
        if appConnect > .zero { result.append(("tls", span(connect, appConnect))) }
        result.append(("processing", span(max(preTransfer, appConnect, connect), startTransfer)))
        result.append(("transfer", span(startTransfer, total)))
        return result
    }
}

/// The leaf certificate the server presented.
public struct PeerCertificate: Sendable, Equatable {
    public var notAfter: Date?
    public var notBefore: Date?
    public var subject: String?
    public var issuer: String?

    public init(notAfter: Date? = nil, notBefore: Date? = nil, subject: String? = nil, issuer: String? = nil) {
        self.notAfter = notAfter
        self.notBefore = notBefore
        self.subject = subject
        self.issuer = issuer
    }

    /// From libcurl's "Name:value" lines for one certificate.
    init(certInfoLines lines: [String]) {
        func value(_ key: String) -> String? {
            lines.first { $0.hasPrefix(key + ":") }.map { String($0.dropFirst(key.count + 1)) }
        }
        self.init(notAfter: value("Expire date").flatMap(Self.parseDate),
                  notBefore: value("Start date").flatMap(Self.parseDate),
                  subject: value("Subject"), issuer: value("Issuer"))
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// OpenSSL's ASN1_TIME_print form, "Jan  1 00:00:00 2030 GMT" (also "2030-01-01 00:00:00 GMT" from other backends).
    static func parseDate(_ text: String) -> Date? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "-" })
        var year = 0, month = 0, day = 0
        let clock: ArraySlice<Substring>
        if fields.count >= 6, let m = months.firstIndex(of: String(fields[0])) {
            month = m + 1
            day = Int(fields[1]) ?? 0
            year = Int(fields[5]) ?? 0
            clock = fields[2...4]
        } else if fields.count >= 6, let y = Int(fields[0]) {
            year = y
            month = Int(fields[1]) ?? 0
            day = Int(fields[2]) ?? 0
            clock = fields[3...5]
        } else {
            return nil
        }
        let hms = clock.compactMap { Int($0) }
        guard hms.count == 3, (1...12).contains(month), (1...31).contains(day), year > 0 else { return nil }
        // Days from the civil date (H. Hinnant's algorithm); avoids a Calendar per parse.
        let y = month <= 2 ? year - 1 : year
        let era = y / 400, yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let days = era * 146_097 + yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hms[0] * 3_600 + hms[1] * 60 + hms[2]))
    }
}
