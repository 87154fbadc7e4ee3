import FuzzSupport
import HTTPClient

/// URL redaction on URLs built from fuzzed parts, with secrets as markers that occur nowhere else:
/// no userinfo, no value of a secret-named query parameter (however its name is cased or
/// percent-encoded) and no fragment survives; redacting twice changes nothing; the host stays.
/// The first byte picks a mode: odd bytes feed the rest to the redactor raw (no trap, idempotent)
/// and to `HTTPURL`'s parser (no trap; where it parses, the redacted form keeps its host and port
/// where the parser found them, so reading and showing agree on the userinfo), and resolve the
/// text after the first line break against the first line (no trap; a reference without a scheme
/// or authority stays on the base's origin).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzURLRedaction(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    if input.byte() & 1 == 1 {
        let raw = String(decoding: input.rest(), as: UTF8.self)
        let once = HTTPURL.redact(raw)
        require(HTTPURL.redact(once) == once, "not idempotent: \(shown(raw)) -> \(shown(once))")
        if let url = HTTPURL(raw) {
            let start = "\(raw.prefix(url.scheme.count + 3))\(url.userinfo == nil ? "" : "REDACTED:REDACTED@")\(url.hostAndPort)"
            require(url.redacted.hasPrefix(start), "parser and redaction disagree: \(shown(raw)) -> \(shown(url.redacted))")
            _ = url.origin
        }
        let lines = raw.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        if lines.count == 2, let base = HTTPURL(String(lines[0])), let resolved = base.resolve(String(lines[1])) {
            let reference = lines[1]
            if reference.first == "/" && !reference.hasPrefix("//") || reference.first == "?" || reference.first == "#" {
                require(resolved.origin == base.origin, "left the origin: \(shown(raw)) -> \(shown(resolved.text))")
            }
        }
        return 0
    }
    var built = SecretURL()
    let url = built.make(&input)
    let redacted = HTTPURL.redact(url)
    for secret in built.secrets {
        require(!redacted.contains(secret), "secret \(secret) survives: \(shown(url)) -> \(shown(redacted))")
    }
    require(redacted.contains(built.host), "host \(built.host) lost: \(shown(url)) -> \(shown(redacted))")
    require(HTTPURL.redact(redacted) == redacted, "not idempotent: \(shown(url)) -> \(shown(redacted))")
    return 0
}

/// A URL with secrets in the places where they hide.
struct SecretURL {
    private(set) var secrets: [String] = []
    private(set) var host = ""

    /// Query names that name a secret (none of them can be on an allowlist of harmless names).
    static let secretNames = ["token", "access_token", "accessToken", "api_key", "apikey", "api-key", "key", "password",
                              "secret", "client_secret", "code", "sig", "signature", "X-Amz-Signature", "jwt", "session_id"]
    static let plainAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789-._~")
    static let anyAlphabet = Array("abcXYZ019-._~%&=?#/@:;+!$'()*, []\u{e9}\u{2028}")

    private mutating func secret(_ input: inout FuzzInput) -> String {
        let value = "SECRET\(secrets.count)x" + input.string(upTo: 6, from: Self.plainAlphabet)
        secrets.append(value)
        return value
    }

    /// The name, its case changed or characters percent-encoded as the fuzzer chooses.
    private func disguised(_ name: String, _ input: inout FuzzInput) -> String {
        var out = ""
        for c in name {
            switch input.byte() % 6 {
            case 0: out += c.uppercased()
            case 1: out += c.lowercased()
            case 2: out += c.utf8.map { "%" + String($0, radix: 16, uppercase: input.bool()) }.joined()
            default: out.append(c)
            }
        }
        return out
    }

    mutating func make(_ input: inout FuzzInput) -> String {
        var url = input.pick(["http://", "https://", "HTTPS://", ""])
        if input.bool() {
            url += input.string(upTo: 8, from: Self.plainAlphabet) + (input.bool() ? ":" + secret(&input) : "") + "@"
        }
        host = input.pick(["example.com", "127.0.0.1", "[::1]", "mcp.internal"])
        url += host + (input.bool() ? ":\(input.int(1...200) * 300)" : "")
        url += input.pick(["", "/", "/mcp", "/a/b;c", "/p@th"])
        if input.bool() {
            var pairs: [String] = []
            for _ in 0..<input.int(1...4) {
                switch input.byte() % 4 {
                case 0: pairs.append("page=" + input.string(upTo: 4, from: Self.plainAlphabet))
                case 1: pairs.append(input.string(upTo: 6, from: Self.anyAlphabet))
                default: pairs.append(disguised(input.pick(Self.secretNames), &input) + "=" + secret(&input))
                }
            }
            url += "?" + pairs.joined(separator: input.pick(["&", "&&"]))
        }
        if input.bool() {
            url += "#" + input.pick(["token=", "access_token=", "", "state=x&id_token="]) + secret(&input)
        }
        return url
    }
}
