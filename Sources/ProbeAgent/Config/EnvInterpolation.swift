/// Replaces `${NAME}` in a config value with the variable's value. `$${` stays a literal `${`.
enum EnvInterpolation {
    enum Failure: Error, Equatable {
        case unset(String)
        case empty(String)
        case invalidName
        case unterminated
    }

    static func expand(_ text: String, environment: [String: String]) -> Result<String, Failure> {
        expand(text) { environment[$0] }
    }

    /// The variables `text` refers to, in order.
    static func references(in text: String) -> [String] {
        var names: [String] = []
        _ = expand(text) { names.append($0); return "-" }
        return names
    }

    private static func expand(_ text: String, lookup: (String) -> String?) -> Result<String, Failure> {
        guard text.contains("${") else { return .success(text) }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if rest[..<start.lowerBound].hasSuffix("$") {  // `$${` escapes
                out += rest[..<start.lowerBound].dropLast() + "${"
                rest = rest[start.upperBound...]
                continue
            }
            out += rest[..<start.lowerBound]
            guard let close = rest[start.upperBound...].firstIndex(of: "}") else { return .failure(.unterminated) }
            let name = String(rest[start.upperBound..<close])
            guard isVariableName(name) else { return .failure(.invalidName) }
            guard let value = lookup(name) else { return .failure(.unset(name)) }
            guard !value.isEmpty else { return .failure(.empty(name)) }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return .success(out + rest)
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}

extension EnvInterpolation.Failure: CustomStringConvertible {
    var description: String {
        switch self {
        case .unset(let name): "environment variable \(name) is not set"
        case .empty(let name): "environment variable \(name) is empty"
        case .invalidName: "\"${…}\" is not a variable reference (expected ${NAME}: letters, digits, _; $${ for a literal ${)"
        case .unterminated: "\"${\" without a closing \"}\" (write $${ for a literal ${)"
        }
    }
}
