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
        guard let parts = HTTPURL.libcurlParts(url), parts.scheme == "http" || parts.scheme == "https" else {
            return HTTPClientError(kind: .malformedURL, message: "not an http(s) URL")
        }
        if HTTPURL.isReservedInvalid(host: parts.host) {
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
