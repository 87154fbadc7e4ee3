/// The one way a URL is shown (spans, `/status`, logs, `check` output, error messages), by rule
/// rather than by a list of secret names:
/// - userinfo becomes `REDACTED:REDACTED`;
/// - every query value becomes `REDACTED` unless its name, percent-decoded and compared
///   case-insensitively, is on `allowedQueryNames`; an empty value stays empty; an item without `=`
///   is shown only when it is an allowed name, else as `REDACTED` (it may be a bare token);
///   `&` and `;` both separate items;
/// - the fragment is dropped.
public enum URLRedactor {
    /// Query names whose values are shown: a short list of clearly harmless ones (documented in
    /// docs/configuration.md).
    public static let allowedQueryNames: Set<String> = ["format", "full", "lang", "pretty", "verbose", "version"]

    public static func redact(_ url: String) -> String {
        var rest = Substring(url)
        var out = ""
        if let schemeEnd = rest.range(of: "://"), isScheme(rest[..<schemeEnd.lowerBound]) {
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

    /// RFC 3986: a letter, then letters, digits, `+`, `-`, `.`. A `://` later on (in a query value
    /// of a URL written without a scheme) does not end a scheme.
    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) }
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
