public struct TLSOptions: Sendable, Equatable {
    /// PEM bundle of trusted CAs; nil = the system store.
    public var caFile: String?
    public var clientCertFile: String?
    public var clientKeyFile: String?
    public var verifyPeer: Bool

    public init(caFile: String? = nil, clientCertFile: String? = nil, clientKeyFile: String? = nil, verifyPeer: Bool = true) {
        self.caFile = caFile
        self.clientCertFile = clientCertFile
        self.clientKeyFile = clientKeyFile
        self.verifyPeer = verifyPeer
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Sent as given; the client adds none of its own besides Host and Content-Length.
    public var headers: HTTPHeaders
    public var body: [UInt8]?
    /// The whole exchange, connect to last body byte. Zero or less fails as `.timeout` at once.
    public var timeout: Duration
    public var connectTimeout: Duration?
    public var maxResponseBodyBytes: Int = 1 << 20
    /// Follow up to 5 redirects.
    public var followRedirects: Bool = false
    public var tls: TLSOptions = TLSOptions()
    /// A new connection, closed afterwards: probes measure connection setup, not a pooled socket.
    public var freshConnection: Bool = false
    /// Fill `HTTPResponse.peerCertificate`. Implies a new connection (a reused one has no handshake to report).
    public var captureCertificate: Bool = false
    /// nil = no Accept-Encoding; "" = every encoding libcurl decodes, decoded transparently.
    public var acceptEncoding: String?

    public init(method: String = "GET", url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8]? = nil,
                timeout: Duration = .seconds(10)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}
