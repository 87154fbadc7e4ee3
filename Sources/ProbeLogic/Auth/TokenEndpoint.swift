import Foundation
import HTTPClient

/// An access token as a token endpoint issued it (RFC 6749 §5.1).
public struct TokenResponse: Sendable, Equatable {
    public var accessToken: Secret
    public var refreshToken: Secret?
    /// Seconds, when the server said.
    public var expiresIn: Int?

    public init(accessToken: Secret, refreshToken: Secret? = nil, expiresIn: Int? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
    }
}

/// Why a token request failed. `description` is short and never carries a secret or the URL.
public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An RFC 6749 §5.2 error code (`invalid_grant`, `invalid_client`, ...), with the HTTP status.
    case oauth(code: String, status: Int)
    /// A non-2xx answer without an OAuth error body.
    case http(status: Int)
    /// No answer: timeout, refused, TLS, ... (the HTTP client's error kind).
    case transport(String)
    case invalidResponse(InvalidTokenResponse)

    public var description: String {
        switch self {
        case .oauth(let code, let status): "\(code) (HTTP \(status))"
        case .http(let status): "HTTP \(status)"
        case .transport(let kind): kind
        case .invalidResponse(let why): "invalid response: \(why)"
        }
    }

    public var isInvalidGrant: Bool { if case .oauth("invalid_grant", _) = self { true } else { false } }

    /// `auth.reason` of a probe without its token: a short, fixed vocabulary, never server text
    /// beyond a registered OAuth error code (`invalid_client`, `http_500`, `connection_refused`, ...).
    public var reason: String {
        switch self {
        case .oauth(let code, let status): Self.registeredCodes.contains(code) ? code : "http_\(status)"
        case .http(let status): "http_\(status)"
        case .transport(let kind): kind
        case .invalidResponse(let why): why.reason
        }
    }

    /// RFC 6749 §5.2 and §4.1.2.1, RFC 8707 §2.
    static let registeredCodes: Set<String> = [
        "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
        "invalid_scope", "invalid_target", "server_error", "temporarily_unavailable",
    ]
}

/// A 2xx token response that carries no usable token.
public enum InvalidTokenResponse: Sendable, Equatable, CustomStringConvertible {
    case notJSON
    case noAccessToken
    /// A token type other than Bearer (the name as `TokenEndpoint.errorCode` bounds it).
    case notBearer(String)

    public var description: String {
        switch self {
        case .notJSON: "not a JSON object"
        case .noAccessToken: "no access_token"
        case .notBearer(let type): "token_type \(type) is not Bearer"
        }
    }

    var reason: String {
        switch self {
        case .notJSON: "invalid_json"
        case .noAccessToken: "no_access_token"
        case .notBearer: "unsupported_token_type"
        }
    }
}

/// One grant request to an OAuth token endpoint: form POST, client authentication, response parsing.
struct TokenEndpoint: Sendable {
    enum Grant: Sendable {
        case clientCredentials(scope: String?, resource: String)
        case refreshToken(Secret, resource: String)
    }

    struct Client: Sendable {
        var id: String
        var secret: Secret?
    }

    let http: TracedHTTP
    let timeout: Duration
    let maxResponseBytes: Int

    func request(_ grant: Grant, url: String, client: Client, tls: TLSOptions) async -> Result<TokenResponse, TokenError> {
        var request = HTTPRequest(method: "POST", url: url, body: Array(Self.form(grant, client: client).utf8),
                                  timeout: timeout)
        request.headers.add("Content-Type", "application/x-www-form-urlencoded")
        request.headers.add("Accept", "application/json")
        if let authorization = Self.basicAuthorization(client) { request.headers.add("Authorization", authorization) }
        request.maxResponseBodyBytes = maxResponseBytes
        request.tls = tls
        let exchange = await http.send(request)
        if let error = exchange.error { return .failure(.transport(error.kind.rawValue)) }
        return Self.parse(status: exchange.status ?? 0, body: exchange.body)
    }

    /// The form body. A confidential client authenticates with HTTP Basic (client_secret_basic);
    /// the refresh grant also names the client in the body, as public clients must (RFC 6749 §6).
    static func form(_ grant: Grant, client: Client) -> String {
        var fields: [(String, String)]
        switch grant {
        case .clientCredentials(let scope, let resource):
            fields = [("grant_type", "client_credentials")]
            if let scope, !scope.isEmpty { fields.append(("scope", scope)) }
            fields.append(("resource", resource))
        case .refreshToken(let token, let resource):
            fields = [("grant_type", "refresh_token"), ("refresh_token", token.value), ("client_id", client.id),
                      ("resource", resource)]
        }
        return fields.map { formEncode($0) + "=" + formEncode($1) }.joined(separator: "&")
    }

    /// `Basic base64(urlenc(id):urlenc(secret))` (RFC 6749 §2.3.1), nil for a public client.
    static func basicAuthorization(_ client: Client) -> String? {
        guard let secret = client.secret else { return nil }
        let pair = formEncode(client.id) + ":" + formEncode(secret.value)
        return "Basic " + Data(pair.utf8).base64EncodedString()
    }

    /// application/x-www-form-urlencoded: unreserved bytes as-is, space as `+`, the rest `%XX`.
    static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    static func parse(status: Int, body: [UInt8]) -> Result<TokenResponse, TokenError> {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        guard (200..<300).contains(status) else {
            if let code = object?["error"] as? String { return .failure(.oauth(code: errorCode(code), status: status)) }
            return .failure(.http(status: status))
        }
        guard let object else { return .failure(.invalidResponse(.notJSON)) }
        guard let access = object["access_token"] as? String, !access.isEmpty else {
            return .failure(.invalidResponse(.noAccessToken))
        }
        if let type = object["token_type"] as? String, type.lowercased() != "bearer" {
            return .failure(.invalidResponse(.notBearer(errorCode(type))))
        }
        let refresh = (object["refresh_token"] as? String).flatMap { $0.isEmpty ? nil : Secret($0) }
        return .success(TokenResponse(accessToken: Secret(access), refreshToken: refresh,
                                      expiresIn: expiresIn(object["expires_in"])))
    }

    /// Number or numeric string (some servers quote it); negative means already expired.
    static func expiresIn(_ value: Any?) -> Int? {
        let seconds: Double? = switch value {
        case let n as NSNumber: n.doubleValue
        case let s as String: Double(s)
        default: nil
        }
        guard let seconds, seconds.isFinite else { return nil }
        return max(0, Int(min(seconds, Double(Int32.max))))
    }

    /// Server-chosen text that reaches notes and spans: RFC 6749 error-code shape only, bounded.
    static func errorCode(_ text: String) -> String {
        let allowed = text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == ".") }
        return allowed && !text.isEmpty && text.count <= 40 ? text : "unrecognised"
    }
}
