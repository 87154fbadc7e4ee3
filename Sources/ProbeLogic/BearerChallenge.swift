/// The parameters of a `WWW-Authenticate: Bearer ...` challenge (RFC 6750 / RFC 9728).
public struct BearerChallenge: Sendable, Equatable {
    public var isBearer: Bool
    public var parameters: [String: String]

    public var error: String? { parameters["error"] }
    public var resourceMetadata: String? { parameters["resource_metadata"] }
    public var scope: String? { parameters["scope"] }

    /// Parses the first Bearer challenge of a header value; auth-params may be quoted strings
    /// with escapes. Another scheme yields `isBearer == false`.
    public static func parse(_ header: String) -> BearerChallenge {
        var rest = Substring(header)
        var found = false
        // Find a "Bearer" scheme token at a challenge boundary.
        while !rest.isEmpty {
            rest = rest.drop(while: { $0 == " " || $0 == "," })
            let token = rest.prefix(while: { $0 != " " && $0 != "," })
            if token.lowercased() == "bearer" {
                rest = rest.dropFirst(token.count)
                found = true
                break
            }
            rest = rest.dropFirst(max(token.count, 1))
        }
        guard found else { return BearerChallenge(isBearer: false, parameters: [:]) }
        var params: [String: String] = [:]
        while true {
            rest = rest.drop(while: { $0 == " " || $0 == "," })
            guard let eq = rest.firstIndex(of: "=") else { break }
            let name = rest[..<eq].trimmingCharacters(in: " ").lowercased()
            if name.contains(" ") { break }  // next challenge's scheme
            rest = rest[rest.index(after: eq)...].drop(while: { $0 == " " })
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(c); escaped = false }
                    else if c == "\\" { escaped = true }
                    else if c == "\"" { break }
                    else { value.append(c) }
                }
            } else {
                value = String(rest.prefix(while: { $0 != "," && $0 != " " }))
                rest = rest.dropFirst(value.count)
            }
            params[name] = value
        }
        return BearerChallenge(isBearer: true, parameters: params)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
