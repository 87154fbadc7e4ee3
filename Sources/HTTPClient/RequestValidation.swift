import CCurl

/// URL facts decided before any I/O, with libcurl's own parser.
public enum URLCheck {
    struct Parts {
        var scheme: String
        var host: String
    }

    static func parse(_ url: String, relativeTo base: String? = nil) -> Parts? {
        guard let handle = curl_url() else { return nil }
        defer { curl_url_cleanup(handle) }
        if let base, curl_url_set(handle, CURLUPART_URL, base, 0) != CURLUE_OK { return nil }
        guard curl_url_set(handle, CURLUPART_URL, url, 0) == CURLUE_OK,
              let scheme = part(handle, CURLUPART_SCHEME), let host = part(handle, CURLUPART_HOST) else { return nil }
        return Parts(scheme: scheme, host: host)
    }

    /// An absolute http:// or https:// URL that libcurl accepts (the config and `check` refuse others up front).
    public static func isHTTP(_ url: String) -> Bool {
        guard let scheme = parse(url)?.scheme else { return false }
        return scheme == "http" || scheme == "https"
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

extension HTTPRequest {
    /// A failure known without any I/O.
    func preflightError() -> HTTPClientError? {
        guard timeout > .zero else { return HTTPClientError(kind: .timeout, message: "no time left for the request") }
        for header in headers where !Self.isValidHeader(header) {
            return HTTPClientError(kind: .other, message: "header name or value has a control character")
        }
        guard method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), !method.isEmpty else {
            return HTTPClientError(kind: .other, message: "invalid method")
        }
        guard let parts = URLCheck.parse(url), parts.scheme == "http" || parts.scheme == "https" else {
            return HTTPClientError(kind: .malformedURL, message: "not an http(s) URL")
        }
        if URLCheck.isReservedInvalid(host: parts.host) {
            return HTTPClientError(kind: .dns, message: "reserved .invalid host name")
        }
        return nil
    }

    private static func isValidHeader(_ header: HTTPHeader) -> Bool {
        !header.name.isEmpty
            && header.name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
            && HTTPHeader.isFieldValue(header.value)
    }
}
