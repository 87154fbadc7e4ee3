import CCurl

/// An absolute http:// or https:// URL, the one way any module reads or shows one: split once
/// (RFC 3986 generic syntax) into scheme, userinfo, host, port, path, query and fragment; its
/// origin; the form it may be shown in; a reference resolved against it. libcurl, which sends the
/// requests, has a parser of its own; `isReadByLibcurl` asks it where a user hands a URL over.
public struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    /// Why a text is not an `HTTPURL`.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        /// No `scheme://` at the start.
        case notAbsolute
        /// The scheme (lowercased) is not http or https.
        case scheme(String)
        case noHost
        case invalidPort
        case spaceOrControl
        /// A `#` before the userinfo's `@`: the generic syntax ends the host at the `#`, the
        /// redaction rule reads the `#` as part of a password; such a URL is refused, not guessed at.
        case hashInUserinfo

        public var description: String {
            switch self {
            case .notAbsolute: "is not an absolute URL"
            case .scheme(let scheme): "has scheme '\(scheme)'; only http and https are supported"
            case .noHost: "has no host"
            case .invalidPort: "has a port that is not a number from 1 to 65535"
            case .spaceOrControl: "has a space or control character (percent-encode it)"
            case .hashInUserinfo: "has a '#' before the '@' of its userinfo (percent-encode it as %23)"
            }
        }
    }

    /// The URL as given.
    public let text: String
    /// `http` or `https`, lowercased.
    public let scheme: String
    public let userinfo: Substring?
    /// As written; an IPv6 address without its brackets.
    public let host: String
    /// As written, else the scheme's default.
    public let port: Int
    /// The authority without its userinfo, as written (`host`, `host:port`, `[::1]:8080`).
    public let hostAndPort: Substring
    public let path: Substring
    /// Without its `?`; nil when there is no `?`.
    public let query: Substring?
    /// Without its `#`; nil when there is no `#`.
    public let fragment: Substring?
    private let authority: Substring

    public init?(_ text: String) {
        guard let url = try? HTTPURL(parsing: text) else { return nil }
        self = url
    }

    public init(parsing text: String) throws(Problem) {
        guard !text.unicodeScalars.contains(where: Self.isSpaceOrControl) else { throw .spaceOrControl }
        guard let separator = text.firstRange(of: "://"), Self.isScheme(text[..<separator.lowerBound]) else { throw .notAbsolute }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw .scheme(scheme) }
        let rest = text[separator.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let userinfoSearchEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        guard !rest[authorityEnd..<userinfoSearchEnd].contains("@") else { throw .hashInUserinfo }
        let authority = rest[..<authorityEnd]
        let at = authority.lastIndex(of: "@")
        let hostAndPort = at.map { authority[authority.index(after: $0)...] } ?? authority

        let host: Substring
        let portText: Substring?
        if hostAndPort.first == "[" {
            guard let close = hostAndPort.firstIndex(of: "]") else { throw .noHost }
            host = hostAndPort[hostAndPort.index(after: hostAndPort.startIndex)..<close]
            let afterHost = hostAndPort[hostAndPort.index(after: close)...]
            guard afterHost.isEmpty || afterHost.first == ":" else { throw .invalidPort }
            portText = afterHost.isEmpty ? nil : afterHost.dropFirst()
        } else if let colon = hostAndPort.firstIndex(of: ":") {
            host = hostAndPort[..<colon]
            portText = hostAndPort[hostAndPort.index(after: colon)...]
        } else {
            host = hostAndPort
            portText = nil
        }
        guard !host.isEmpty else { throw .noHost }
        if let portText, !portText.isEmpty {  // RFC 3986 §3.2.3: an empty port is the default one
            guard portText.utf8.count <= 5, portText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let port = Int(portText), (1...65535).contains(port) else { throw .invalidPort }
            self.port = port
        } else {
            self.port = scheme == "https" ? 443 : 80
        }

        let tail = rest[authorityEnd...]
        let pathEnd = tail.firstIndex { $0 == "?" || $0 == "#" } ?? tail.endIndex
        let hash = tail[pathEnd...].firstIndex(of: "#")
        self.text = text
        self.scheme = scheme
        self.userinfo = at.map { authority[..<$0] }
        self.host = String(host)
        self.hostAndPort = hostAndPort
        self.authority = authority
        self.path = tail[..<pathEnd]
        self.query = tail[pathEnd...].first == "?" ? tail[tail.index(after: pathEnd)..<(hash ?? tail.endIndex)] : nil
        self.fragment = hash.map { tail[tail.index(after: $0)...] }
    }

    /// `scheme://host:port`, scheme and host lowercased, the port always given: the key for
    /// per-origin facts and same-origin checks.
    public var origin: String {
        let lowered = host.lowercased()
        return "\(scheme)://\(lowered.contains(":") ? "[\(lowered)]" : lowered):\(port)"
    }

    /// Path and query, `/` for an empty path, no fragment: what a request line carries.
    public var pathAndQuery: String {
        (path.isEmpty ? "/" : String(path)) + (query.map { "?" + $0 } ?? "")
    }

    /// The URL as it may be shown (`redact`).
    public var redacted: String { Self.redact(text) }

    /// The redacted form, so that a URL put into a message is never shown whole.
    public var description: String { redacted }

    public static func == (a: HTTPURL, b: HTTPURL) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    private static func isSpaceOrControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? scalar.value <= 0x20 || scalar.value == 0x7F : scalar.properties.isWhitespace
    }

    /// RFC 3986: a letter, then letters, digits, `+`, `-`, `.`.
    static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, isLetter(first) else { return false }
        return text.utf8.allSatisfy { isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}

// MARK: - References

extension HTTPURL {
    /// The URL `reference` names in this URL's context (RFC 3986 §5.2: absolute, network-path,
    /// absolute-path, relative-path, query-only and fragment-only references, dot segments
    /// removed); nil when the result is not an http(s) URL. What a URL cannot hold as it is (a space,
    /// a control character, a non-ASCII byte) is percent-encoded first, as libcurl does with a
    /// `Location` it follows.
    public func resolve(_ reference: String) -> HTTPURL? {
        let ref = Reference(Self.percentEncodingUnsafeBytes(reference))
        let start: String
        let targetPath: String
        var targetQuery = ref.query
        if let refScheme = ref.scheme {
            start = "\(refScheme.lowercased()):\(ref.authority.map { "//\($0)" } ?? "")"
            targetPath = Self.removeDotSegments(ref.path)
        } else if let refAuthority = ref.authority {
            start = "\(scheme)://\(refAuthority)"
            targetPath = Self.removeDotSegments(ref.path)
        } else {
            start = "\(scheme)://\(authority)"
            if ref.path.isEmpty {
                targetPath = String(path)
                targetQuery = ref.query ?? query
            } else {
                targetPath = Self.removeDotSegments(ref.path.first == "/" ? ref.path : mergedPath(ref.path))
            }
        }
        let target = start + targetPath + (targetQuery.map { "?\($0)" } ?? "") + (ref.fragment.map { "#\($0)" } ?? "")
        return HTTPURL(target)
    }

    private static func percentEncodingUnsafeBytes(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if byte <= 0x20 || byte >= 0x7F {
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// §5.2.3: the reference's path after the base path's last `/`.
    private func mergedPath(_ relative: Substring) -> Substring {
        guard let slash = path.lastIndex(of: "/") else { return "/\(relative)"[...] }
        return "\(path[...slash])\(relative)"[...]
    }

    /// §5.2.4.
    static func removeDotSegments(_ path: Substring) -> String {
        var input = path
        var output = ""
        func dropLastSegment() {
            if let slash = output.lastIndex(of: "/") { output.removeSubrange(slash...) } else { output = "" }
        }
        while !input.isEmpty {
            if input.hasPrefix("../") {
                input = input.dropFirst(3)
            } else if input.hasPrefix("./") || input.hasPrefix("/./") {
                input = input.dropFirst(2)
            } else if input == "/." {
                input = "/"
            } else if input.hasPrefix("/../") {
                input = input.dropFirst(3)
                dropLastSegment()
            } else if input == "/.." {
                input = "/"
                dropLastSegment()
            } else if input == "." || input == ".." {
                input = ""
            } else {
                let searchFrom = input.first == "/" ? input.index(after: input.startIndex) : input.startIndex
                let end = input[searchFrom...].firstIndex(of: "/") ?? input.endIndex
                output += input[..<end]
                input = input[end...]
            }
        }
        return output
    }

    /// A URI reference split by RFC 3986 Appendix B.
    private struct Reference {
        var scheme: Substring?
        var authority: Substring?
        var path: Substring
        var query: Substring?
        var fragment: Substring?

        init(_ text: String) {
            var rest = text[...]
            if let colon = rest.firstIndex(of: ":"), HTTPURL.isScheme(rest[..<colon]) {
                scheme = rest[..<colon]
                rest = rest[rest.index(after: colon)...]
            }
            if rest.hasPrefix("//") {
                let afterSlashes = rest.dropFirst(2)
                let end = afterSlashes.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterSlashes.endIndex
                authority = afterSlashes[..<end]
                rest = afterSlashes[end...]
            }
            let pathEnd = rest.firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
            path = rest[..<pathEnd]
            rest = rest[pathEnd...]
            if rest.first == "?" {
                let end = rest.firstIndex(of: "#") ?? rest.endIndex
                query = rest[rest.index(after: rest.startIndex)..<end]
                rest = rest[end...]
            }
            if rest.first == "#" { fragment = rest.dropFirst() }
        }
    }
}

// MARK: - Showing

extension HTTPURL {
    /// Query names whose values are shown: a short list of clearly harmless ones (documented in
    /// docs/configuration.md).
    public static let allowedQueryNames: Set<String> = ["format", "full", "lang", "pretty", "verbose", "version"]

    /// The one way a URL, or a text meant as one, is shown (spans, `/status`, logs, `check` output,
    /// error messages), by rule rather than by a list of secret names:
    /// - userinfo becomes `REDACTED:REDACTED`;
    /// - every query value becomes `REDACTED` unless its name, percent-decoded and compared
    ///   case-insensitively, is on `allowedQueryNames`; an empty value stays empty; an item without `=`
    ///   is shown only when it is an allowed name, else as `REDACTED` (it may be a bare token);
    ///   `&` and `;` both separate items;
    /// - the fragment is dropped.
    public static func redact(_ url: String) -> String {
        var rest = Substring(url)
        var out = ""
        // Only a real scheme ends at `://`: a later one (in a query value of a URL written without
        // a scheme) does not.
        if let schemeEnd = rest.firstRange(of: "://"), isScheme(rest[..<schemeEnd.lowerBound]) {
            out += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
        }
        // A `#` in a password must not hide the `@` after it: look for userinfo up to the first `/` or `?`.
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") {
            out += "REDACTED:REDACTED@"
            rest = rest[rest.index(after: at)...]
        }
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        guard let q = rest.firstIndex(of: "?") else { return out + rest }
        out += rest[...q]
        let query = rest[rest.index(after: q)...]
        var itemStart = query.startIndex
        for i in query.indices where query[i] == "&" || query[i] == ";" {
            out += redactedItem(query[itemStart..<i])
            out.append(query[i])
            itemStart = query.index(after: i)
        }
        return out + redactedItem(query[itemStart...])
    }

    private static func redactedItem(_ item: Substring) -> Substring {
        guard let eq = item.firstIndex(of: "=") else {
            return item.isEmpty || isAllowed(item) ? item : "REDACTED"
        }
        let name = item[..<eq]
        return item[item.index(after: eq)...].isEmpty || isAllowed(name) ? item : name + "=REDACTED"
    }

    private static func isAllowed(_ name: Substring) -> Bool {
        guard let decoded = percentDecoded(name) else { return false }
        return allowedQueryNames.contains(decoded.lowercased())
    }

    /// `%XX` sequences decoded; nil when one is malformed or the result is not UTF-8.
    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

// MARK: - libcurl's reading

extension HTTPURL {
    /// Whether libcurl reads the text as an http:// or https:// URL too: it refuses some that the
    /// generic syntax allows (two `@`, a `\` in the host). A URL a user hands over is checked with it.
    public var isReadByLibcurl: Bool {
        guard let scheme = Self.libcurlParts(text)?.scheme else { return false }
        return scheme == "http" || scheme == "https"
    }

    /// Scheme and host as libcurl reads them (before any I/O: the request check, redirect targets),
    /// `url` resolved against `base` its way when given.
    static func libcurlParts(_ url: String, relativeTo base: String? = nil) -> (scheme: String, host: String)? {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        if let base, curl_url_set(handle, CURLUPART_URL, base, 0) != CURLUE_OK { return nil }
        guard curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK,
              let scheme = part(handle, CURLUPART_SCHEME), let host = part(handle, CURLUPART_HOST) else { return nil }
        return (scheme, host)
    }

    private static func part(_ handle: OpaquePointer, _ which: CURLUPart) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, which, &value, 0) == CURLUE_OK, let value else { return nil }
        defer { curl_free(value) }
        return String(cString: value)
    }

    /// RFC 6761: `invalid.` and names below it never resolve, so no resolver is asked.
    static func isReservedInvalid(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name == "invalid" || name.hasSuffix(".invalid")
    }
}
