import CCurl
import Synchronization

/// One request on one easy handle. Apart from the atomics and the timings snapshot, everything
/// here is touched only on the event-loop thread (callbacks included).
final class CurlTransfer: @unchecked Sendable {
    struct Head: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var httpVersion: String?
        var peerCertificate: PeerCertificate?
    }

    enum Sink {
        case buffered(CheckedContinuation<Result<HTTPResponse, HTTPClientError>, Never>)
        case streaming(head: CheckedContinuation<Result<Head, HTTPClientError>, Never>?, body: BodyChannel)
    }

    static let maxRedirects = 5
    /// Bound on all header lines of a transfer (1xx, redirects, trailers included). Below libcurl's
    /// own 300 KiB by more than its 100 KiB line limit, so this count, not libcurl's, decides.
    static let maxHeaderBytes = 128 << 10

    let request: HTTPRequest
    /// Set before submission; cleared once the outcome is delivered.
    var sink: Sink?
    let cancelRequested = Atomic(false)
    let isFinished = Atomic(false)
    let timingsSnapshot = Locked(PhaseTimings.zero)

    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var status = 0
    private var headers = HTTPHeaders()
    private var headComplete = false
    private var body: [UInt8] = []
    private var received = 0
    private var overCap = false
    private var headerBytes = 0
    private var headersOverCap = false
    private var redirectToInvalidHost = false

    init(request: HTTPRequest) { self.request = request }

    // MARK: Setup

    /// Configures `easy` for the request; the handle must be fresh or reset.
    func attach(to easy: UnsafeMutableRawPointer) -> CURLcode {
        self.easy = easy
        var rc = CURLE_OK
        func set(_ call: () -> CURLcode) { if rc == CURLE_OK { rc = call() } }
        func long(_ option: CURLoption, _ value: Int) { set { pa_easy_setopt_long(easy, option, value) } }
        func string(_ option: CURLoption, _ value: String) { set { pa_easy_setopt_str(easy, option, value) } }  // libcurl copies

        let context = Unmanaged.passUnretained(self).toOpaque()
        string(CURLOPT_URL, request.url)
        long(CURLOPT_NOSIGNAL, 1)
        long(CURLOPT_NOPROGRESS, 1)
        string(CURLOPT_PROXY, "")       // ignore *_proxy from the environment
        string(CURLOPT_NOPROXY, "*")
        string(CURLOPT_PROTOCOLS_STR, "http,https")
        string(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        long(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
        if let connectTimeout = request.connectTimeout { long(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout)) }

        switch request.method {
        case "GET": long(CURLOPT_HTTPGET, 1)
        case "HEAD": long(CURLOPT_NOBODY, 1)
        case "POST": break
        default: string(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if request.method == "POST" || request.body != nil {
            let body = request.body ?? []
            set { pa_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)) }
            if body.isEmpty {
                string(CURLOPT_COPYPOSTFIELDS, "")
            } else {
                set { body.withUnsafeBytes { pa_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) } }
            }
        }
        headerList = makeHeaderList()
        set { pa_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList) }
        if let encoding = request.acceptEncoding { string(CURLOPT_ACCEPT_ENCODING, encoding) }

        if request.followRedirects {
            long(CURLOPT_FOLLOWLOCATION, 1)
            long(CURLOPT_MAXREDIRS, Self.maxRedirects)
        }
        if request.freshConnection || request.captureCertificate { long(CURLOPT_FRESH_CONNECT, 1) }
        if request.freshConnection { long(CURLOPT_FORBID_REUSE, 1) }
        if request.captureCertificate { long(CURLOPT_CERTINFO, 1) }
        let tls = request.tls
        if let caFile = tls.caFile { string(CURLOPT_CAINFO, caFile) }
        if let cert = tls.clientCertFile { string(CURLOPT_SSLCERT, cert) }
        if let key = tls.clientKeyFile { string(CURLOPT_SSLKEY, key) }
        if !tls.verifyPeer {
            long(CURLOPT_SSL_VERIFYPEER, 0)
            long(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if request.method != "HEAD" {
            // Fails early on a declared Content-Length over the cap; the write callback covers the rest.
            set { pa_easy_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBodyBytes)) }
        }

        set { pa_easy_setopt_write_cb(easy, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            return transfer.onHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
        }) }
        set { pa_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, context) }
        set { pa_easy_setopt_write_cb(easy, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            return transfer.onBody(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
        }) }
        set { pa_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, context) }
        return rc
    }

    /// Releases what this transfer allocated; the loop owns and recycles the handle itself.
    func detach() {
        curl_slist_free_all(headerList)
        headerList = nil
        easy = nil
    }

    private func makeHeaderList() -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        func append(_ line: String) { list = curl_slist_append(list, line) }
        for header in request.headers {
            // "Name:" would make libcurl drop the header; "Name;" sends it with an empty value.
            append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        // Suppress libcurl's own defaults so the request carries only what the caller gave.
        for name in ["Expect", "Accept"] where request.headers[name] == nil { append("\(name):") }
        if request.body != nil || request.method == "POST", request.headers["Content-Type"] == nil { append("Content-Type:") }
        return list
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let nanoseconds = duration.nanoseconds  // libcurl treats 0 as "no timeout": round up
        return max(1, Int(nanoseconds / 1_000_000 + (nanoseconds % 1_000_000 > 0 ? 1 : 0)))
    }

    // MARK: Callbacks

    private func onHeaderLine(_ raw: UnsafeRawBufferPointer) -> Bool {
        headerBytes += raw.count
        if headerBytes > Self.maxHeaderBytes {
            headersOverCap = true
            return false
        }
        if isStreamHeadDelivered { return true }
        var line = raw[...]
        while let last = line.last, last == 0x0A || last == 0x0D { line = line.dropLast() }
        if line.starts(with: "HTTP/".utf8) {
            let fields = line.split(separator: 0x20, maxSplits: 2)
            status = fields.count > 1 ? Int(String(decoding: fields[1], as: UTF8.self)) ?? 0 : 0
            headers = HTTPHeaders()
            headComplete = false
            return true
        }
        if headComplete { return true }  // trailers
        if line.isEmpty {
            endOfHeaderBlock()
            return true
        }
        if let first = line.first, first == 0x20 || first == 0x09, !headers.isEmpty {
            return true  // obsolete line folding: not worth supporting
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return true }
        let name = String(decoding: line[..<colon], as: UTF8.self)
        let value = String(decoding: line[line.index(after: colon)...], as: UTF8.self)
            .trimmingASCIIWhitespace()
        headers.add(name, value)
        if isRedirectToFollow, asciiCaseInsensitiveEquals(name, "location"), redirectLeadsToInvalidHost(value) {
            redirectToInvalidHost = true
            return false
        }
        return true
    }

    private var isRedirectToFollow: Bool {
        request.followRedirects && (300..<400).contains(status) && status != 304
    }

    private var isStreamHeadDelivered: Bool {
        if case .streaming(head: nil, body: _)? = sink { return true }
        return false
    }

    private func endOfHeaderBlock() {
        guard status >= 200 else { return }  // 1xx: the real head follows
        if isRedirectToFollow, headers["location"] != nil { return }  // libcurl moves on to the next response
        completeHead()
    }

    private func redirectLeadsToInvalidHost(_ location: String) -> Bool {
        var current: UnsafeMutablePointer<CChar>?
        guard let easy, pa_easy_getinfo_str(easy, CURLINFO_EFFECTIVE_URL, &current) == CURLE_OK, let current else { return false }
        guard let target = HTTPURL.libcurlParts(location, relativeTo: String(cString: current)) else { return false }
        return HTTPURL.isReservedInvalid(host: target.host)
    }

    private func completeHead() {
        guard !headComplete else { return }
        headComplete = true
        publishTimings()
        if case .streaming(let head?, let body)? = sink {
            sink = .streaming(head: nil, body: body)
            head.resume(returning: .success(Head(status: status, headers: headers, httpVersion: httpVersion(),
                                                 peerCertificate: request.captureCertificate ? peerCertificate() : nil)))
        }
    }

    private func onBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
        received += chunk.count
        if received > request.maxResponseBodyBytes {
            overCap = true
            return false
        }
        completeHead()
        switch sink {
        case .buffered?:
            if body.isEmpty, let length = headers["content-length"].flatMap(Int.init) {
                body.reserveCapacity(min(length, request.maxResponseBodyBytes))
            }
            body.append(contentsOf: chunk)
        case .streaming(_, let channel)?:
            channel.push(Array(chunk))
            publishTimings()
        case nil:
            break
        }
        return true
    }

    // MARK: Outcome

    /// The transfer ended with `code`; the handle is still attached.
    func complete(_ code: CURLcode) {
        guard code == CURLE_OK else { return fail(error(for: code)) }
        let timings = publishTimings()
        completeHead()
        switch sink {
        case .buffered(let continuation)?:
            continuation.resume(returning: .success(response(timings: timings)))
        case .streaming(_, let channel)?:
            channel.finish(nil)
        case nil:
            break
        }
        finish()
    }

    func fail(_ error: HTTPClientError) {
        switch sink {
        case .buffered(let continuation)?:
            continuation.resume(returning: .failure(error))
        case .streaming(let head, let channel)?:
            head?.resume(returning: .failure(error))
            channel.finish(error)
        case nil:
            break
        }
        finish()
    }

    func cancellationError(_ message: String = "transfer cancelled") -> HTTPClientError {
        HTTPClientError(kind: .cancelled, message: message, partialStatus: partialStatus,
                        timings: easy == nil ? timingsSnapshot.withLock { $0 } : publishTimings())
    }

    private func finish() {
        sink = nil
        body = []
        isFinished.store(true, ordering: .releasing)
    }

    private var partialStatus: Int? { status >= 200 ? status : nil }

    private func error(for code: CURLcode) -> HTTPClientError {
        var osErrno = 0
        if let easy { _ = pa_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno) }
        var error = HTTPClientError(curlCode: code, osErrno: Int32(truncatingIfNeeded: osErrno),
                                    partialStatus: partialStatus, timings: publishTimings())
        if overCap || code == CURLE_FILESIZE_EXCEEDED {
            error.kind = .responseTooLarge
            error.message = "response body over \(request.maxResponseBodyBytes) bytes"
        } else if headersOverCap {
            error.kind = .responseHeadersTooLarge
            error.message = "response headers over \(Self.maxHeaderBytes) bytes"
        } else if code == CURLE_OUT_OF_MEMORY, !headComplete, peerAddress() != nil {
            // libcurl before 8.6 reports a header line over its 100 KiB limit (CURL_MAX_HTTP_HEADER)
            // as out of memory; it is the only bounded buffer filled while a response head arrives.
            error.kind = .responseHeadersTooLarge
            error.message = "a response header line over libcurl's 100 KiB limit"
        } else if redirectToInvalidHost {
            error.kind = .dns
            error.message = "redirect to a reserved .invalid host"
        } else if code == CURLE_UNSUPPORTED_PROTOCOL, status == 0, peerAddress() != nil {
            // The URL was checked up front, so this is libcurl refusing the reply: no status line it
            // understands (an unknown HTTP version, or HTTP/0.9, i.e. not HTTP at all).
            error.kind = .invalidHTTP
            error.message = "reply is not HTTP"
        }
        return error
    }

    // MARK: Info (handle attached)

    @discardableResult
    private func publishTimings() -> PhaseTimings {
        guard let easy else { return timingsSnapshot.withLock { $0 } }
        func time(_ info: CURLINFO) -> Duration {
            var value: curl_off_t = 0
            _ = pa_easy_getinfo_off(easy, info, &value)
            return .microseconds(value)
        }
        let timings = PhaseTimings(nameLookup: time(CURLINFO_NAMELOOKUP_TIME_T), connect: time(CURLINFO_CONNECT_TIME_T),
                                   appConnect: time(CURLINFO_APPCONNECT_TIME_T), preTransfer: time(CURLINFO_PRETRANSFER_TIME_T),
                                   startTransfer: time(CURLINFO_STARTTRANSFER_TIME_T), total: time(CURLINFO_TOTAL_TIME_T))
        timingsSnapshot.withLock { $0 = timings }
        return timings
    }

    private func long(_ info: CURLINFO) -> Int? {
        var value = 0
        guard let easy, pa_easy_getinfo_long(easy, info, &value) == CURLE_OK else { return nil }
        return value
    }

    private func string(_ info: CURLINFO) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard let easy, pa_easy_getinfo_str(easy, info, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }

    private func httpVersion() -> String? {
        switch long(CURLINFO_HTTP_VERSION) {
        case Int(CURL_HTTP_VERSION_1_0)?: "1.0"
        case Int(CURL_HTTP_VERSION_1_1)?: "1.1"
        case Int(CURL_HTTP_VERSION_2_0)?: "2"
        case Int(CURL_HTTP_VERSION_3)?: "3"
        default: nil
        }
    }

    private func peerAddress() -> String? { string(CURLINFO_PRIMARY_IP).flatMap { $0.isEmpty ? nil : $0 } }

    private func response(timings: PhaseTimings) -> HTTPResponse {
        let port = long(CURLINFO_PRIMARY_PORT)
        return HTTPResponse(status: status, headers: headers, body: body, timings: timings, httpVersion: httpVersion(),
                            peerAddress: peerAddress(), peerPort: port == 0 ? nil : port,
                            peerCertificate: request.captureCertificate ? peerCertificate() : nil,
                            effectiveURL: string(CURLINFO_EFFECTIVE_URL), redirectCount: long(CURLINFO_REDIRECT_COUNT) ?? 0)
    }

    private func peerCertificate() -> PeerCertificate? {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard let easy, pa_easy_getinfo_certinfo(easy, &info) == CURLE_OK, let info,
              info.pointee.num_of_certs > 0, let leaf = info.pointee.certinfo?[0] else { return nil }
        var lines: [String] = []
        var node: UnsafeMutablePointer<curl_slist>? = leaf
        while let current = node {
            if let data = current.pointee.data { lines.append(String(cString: data)) }
            node = current.pointee.next
        }
        return PeerCertificate(certInfoLines: lines)
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let bytes = utf8
        guard let start = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let end = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })!
        return String(self[start...end])
    }
}
