import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case timeout, dns
        case connectionRefused = "connection_refused"
        case connectionReset = "connection_reset"
        case tls
        case certificateInvalid = "certificate_invalid"
        /// The body over the request's cap.
        case responseTooLarge = "response_too_large"
        /// The header block over our limit, or a header line or count over libcurl's.
        case responseHeadersTooLarge = "response_headers_too_large"
        /// The server answered something that is not valid HTTP.
        case invalidHTTP = "invalid_http"
        case malformedURL = "malformed_url"
        case tooManyRedirects = "too_many_redirects"
        case sendFailed = "send_failed"
        case receiveFailed = "receive_failed"
        case emptyReply = "empty_reply"
        case cancelled, other
    }

    public var kind: Kind
    /// The CURLcode, 0 when the failure was decided before or outside libcurl.
    public var curlCode: Int32
    /// Short and free of secrets: never the URL or a header value.
    public var message: String
    /// The status line seen before the failure, if any.
    public var partialStatus: Int?
    public var timings: PhaseTimings

    public init(kind: Kind, curlCode: Int32 = 0, message: String, partialStatus: Int? = nil, timings: PhaseTimings = .zero) {
        self.kind = kind
        self.curlCode = curlCode
        self.message = message
        self.partialStatus = partialStatus
        self.timings = timings
    }

    public var description: String {
        var text = "\(kind.rawValue): \(message)"
        if curlCode != 0 { text += " (curl \(curlCode))" }
        if let partialStatus { text += " after status \(partialStatus)" }
        return text
    }

    /// libcurl's fixed text for the code plus the OS error, neither of which carries request data.
    init(curlCode: CURLcode, osErrno: Int32, partialStatus: Int?, timings: PhaseTimings) {
        var message = String(cString: curl_easy_strerror(curlCode))
        if osErrno != 0 { message += ": " + String(cString: strerror(osErrno)) }
        self.init(kind: classifyCurlError(code: Int32(bitPattern: curlCode.rawValue), osErrno: osErrno),
                  curlCode: Int32(bitPattern: curlCode.rawValue), message: message,
                  partialStatus: partialStatus, timings: timings)
    }
}

/// Maps a CURLcode, refined by the OS errno (CURLINFO_OS_ERRNO) where libcurl lumps causes together.
public func classifyCurlError(code: Int32, osErrno: Int32) -> HTTPClientError.Kind {
    switch code {
    case 1, 3: return .malformedURL                     // UNSUPPORTED_PROTOCOL, URL_MALFORMAT
    case 5, 6: return .dns                              // COULDNT_RESOLVE_PROXY, COULDNT_RESOLVE_HOST
    case 7:                                             // COULDNT_CONNECT
        switch osErrno {
        case ECONNRESET: return .connectionReset
        case ETIMEDOUT: return .timeout
        case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL: return .other
        default: return .connectionRefused
        }
    case 8, 61: return .invalidHTTP                     // WEIRD_SERVER_REPLY, BAD_CONTENT_ENCODING: the server answered, wrongly
    case 16, 18, 56, 92:                                // HTTP2, PARTIAL_FILE, RECV_ERROR, HTTP2_STREAM
        return osErrno == ECONNRESET ? .connectionReset : .receiveFailed
    case 28: return .timeout                            // OPERATION_TIMEDOUT
    case 35, 53, 54, 58, 59, 64, 66, 77, 80, 82, 98:    // SSL_CONNECT_ERROR, SSL_ENGINE_*, SSL_CERTPROBLEM, SSL_CIPHER, USE_SSL_FAILED,
        return osErrno == ECONNRESET ? .connectionReset : .tls  // SSL_CACERT_BADFILE, SSL_SHUTDOWN_FAILED, SSL_CRL_BADFILE, SSL_CLIENTCERT
    case 60, 83, 90, 91: return .certificateInvalid     // PEER_FAILED_VERIFICATION, SSL_ISSUER_ERROR, PINNEDPUBKEYNOTMATCH, SSL_INVALIDCERTSTATUS
    case 42: return .cancelled                          // ABORTED_BY_CALLBACK
    case 47: return .tooManyRedirects
    case 52: return .emptyReply                         // GOT_NOTHING
    case 55, 65:                                        // SEND_ERROR, SEND_FAIL_REWIND
        return osErrno == ECONNRESET || osErrno == EPIPE ? .connectionReset : .sendFailed
    case 63: return .responseTooLarge                   // FILESIZE_EXCEEDED
    case 100: return .responseHeadersTooLarge           // TOO_LARGE (8.6+): a header line or the header count over libcurl's limits
    default: return .other
    }
}
