import HTTPClient

/// The restart marks of one probe: the MCP server version, and the configured header and JSON
/// field values, read from the probe's answer or from a document of their own (`url:`).
public struct RestartReading: Sendable, Equatable {
    public var marks: [String: RestartMark] = [:]
    /// Why a configured signal gave no mark this time (`json uptime: document answered HTTP 401`).
    /// Never response content.
    public var problems: [String] = []

    public init(marks: [String: RestartMark] = [:], problems: [String] = []) {
        self.marks = marks
        self.problems = problems
    }
}

/// A restart signal's own document, as fetched: its body, or why there is none.
public enum RestartDocument: Sendable, Equatable {
    case body([UInt8])
    case unreadable(String)
}

public enum RestartMarks {
    /// Pure: `documents` holds what was fetched for signals with their own URL, keyed by that URL.
    public static func read(signals: [RestartSignal], report: ProbeReport,
                            documents: [String: RestartDocument] = [:]) -> RestartReading {
        var reading = RestartReading()
        if let version = report.server?.serverVersion { reading.marks["mcp.server.version"] = RestartMark(version) }
        guard let answer = report.answer else { return reading }  // nothing answered: nothing to read
        for signal in signals {
            switch signal {
            case .headerChanges(let name):
                if let value = answer.headers[name] { reading.marks["header \(name)"] = RestartMark(value) }
                else { reading.problems.append("header \(name): not in the answer") }
            case .jsonFieldChanges(let url, let path, _), .jsonFieldDecreases(let url, let path, _):
                let key = "json \(path)"
                let body: [UInt8]
                switch url.map({ documents[$0] ?? .unreadable("not fetched") }) ?? .body(answer.body) {
                case .body(let bytes): body = bytes
                case .unreadable(let why):
                    reading.problems.append("\(key): \(why)")
                    continue
                }
                guard let value = JSONPath.text(at: path, in: body) else {
                    let source = url == nil ? "the answer" : "the document"
                    reading.problems.append("\(key): \(source) is not JSON or has no value at \(path)")
                    continue
                }
                let rule: RestartMark.Rule = if case .jsonFieldDecreases = signal { .decreases } else { .changes }
                reading.marks[key] = RestartMark(value, rule: rule)
            }
        }
        return reading
    }

    /// The documents that must be fetched for `signals`, each URL once (with the first signal's
    /// credentials: the config loader rejects one URL with two).
    public static func documentSources(_ signals: [RestartSignal]) -> [RestartDocumentSource] {
        var seen = Set<String>()
        return signals.compactMap {
            switch $0 {
            case .jsonFieldChanges(let url?, _, let auth), .jsonFieldDecreases(let url?, _, let auth):
                seen.insert(url).inserted ? RestartDocumentSource(url: url, auth: auth) : nil
            default: nil
            }
        }
    }

    /// GETs each document (e.g. a gateway's `/version`) in its own CLIENT span, with the target's
    /// headers and TLS and either the document's own credentials or the target's, bounded by the
    /// target's timeout (at most 5 s) and 256 KiB.
    static func fetch(_ sources: [RestartDocumentSource], for target: Target, context: ProbeContext) async -> [String: RestartDocument] {
        var documents: [String: RestartDocument] = [:]
        for source in sources {
            let url = source.url
            var request = HTTPRequest(url: url, headers: source.headers(for: target, context: context), timeout: min(target.timeout, .seconds(5)))
            request.headers.add("Accept", "application/json")
            request.tls = target.tls
            request.maxResponseBodyBytes = 256 * 1024
            let exchange = await context.http.send(request)
            documents[url] = if let error = exchange.error {
                .unreadable("document \(HTTPURL.redact(url)) failed (\(error.kind.rawValue))")
            } else if let status = exchange.status, (200..<300).contains(status) {
                .body(exchange.body)
            } else {
                .unreadable("document \(HTTPURL.redact(url)) answered HTTP \(exchange.status ?? 0)")
            }
        }
        return documents
    }
}

/// Where a restart signal's own document is, and the credentials it is read with (nil: the target's).
public struct RestartDocumentSource: Sendable, Equatable {
    public var url: String
    /// Static credentials (none, bearer, basic) of their own, e.g. an admin token for a gateway's
    /// `/version` while the target itself is probed without one.
    public var auth: AuthConfig?

    public init(url: String, auth: AuthConfig? = nil) {
        self.url = url
        self.auth = auth
    }

    func headers(for target: Target, context: ProbeContext) -> HTTPHeaders {
        guard let auth else { return context.headers(for: target) }
        // The document's credentials replace the target's, an Authorization among its headers too.
        var headers = HTTPHeaders(target.headers.filter { $0.name.lowercased() != "authorization" })
        if let authorization = StaticCredentials.resolve(auth).authorization { headers.add("Authorization", authorization) }
        return headers
    }
}
