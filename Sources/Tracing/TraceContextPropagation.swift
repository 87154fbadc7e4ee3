/// W3C Trace Context (`traceparent` / `tracestate`) formatting and parsing.
public enum W3CTraceContext {
    /// `00-<trace-id>-<span-id>-<flags>`, lowercase hex.
    public static func traceparent(_ context: SpanContext) -> String {
        let flags = Hex.encode([context.traceFlags.rawValue])
        return "00-\(context.traceID.hex)-\(context.spanID.hex)-\(flags)"
    }

    /// Parses a `traceparent` header as the spec says: lowercase hex only, no all-zero ids,
    /// version `ff` invalid, future versions parsed by their first 55 characters when those are
    /// followed by `-` or the end. `tracestate` is kept only when well formed (see `validTraceState`).
    public static func parse(traceparent: String, tracestate: String? = nil) -> SpanContext? {
        let utf8 = Array(traceparent.utf8)
        guard utf8.count >= 55 else { return nil }
        let dash = UInt8(ascii: "-")
        guard utf8[2] == dash, utf8[35] == dash, utf8[52] == dash else { return nil }
        for (i, c) in utf8.prefix(55).enumerated() where i != 2 && i != 35 && i != 52 {
            guard isLowerHex(c) else { return nil }
        }
        let version = utf8[0..<2]
        guard version != [UInt8(ascii: "f"), UInt8(ascii: "f")] else { return nil }
        if version == [UInt8(ascii: "0"), UInt8(ascii: "0")] {
            guard utf8.count == 55 else { return nil }
        } else if utf8.count > 55 {
            guard utf8[55] == dash else { return nil }
        }
        guard let traceID = TraceID(bytes: Hex.decode(utf8[3..<35])), traceID.isValid,
              let spanID = SpanID(bytes: Hex.decode(utf8[36..<52])), spanID.isValid else { return nil }
        let flags = Hex.decode(utf8[53..<55])[0]
        return SpanContext(traceID: traceID, spanID: spanID, traceFlags: TraceFlags(rawValue: flags),
                           traceState: tracestate.flatMap(validTraceState) ?? "", isRemote: true)
    }

    /// The tracestate, normalised (empty members and optional whitespace removed), if every member
    /// is a well-formed `key=value` with a unique key and there are at most 32 of them; else nil,
    /// as a receiver must then discard the whole header.
    static func validTraceState(_ value: String) -> String? {
        let members = value.split(separator: ",", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
        guard members.count <= 32 else { return nil }
        var keys = Set<Substring>()
        for member in members {
            guard let eq = member.firstIndex(of: "=") else { return nil }
            let key = member[..<eq]
            let value = member[member.index(after: eq)...]
            guard isValidKey(key), isValidValue(value), keys.insert(key).inserted else { return nil }
        }
        return members.joined(separator: ",")
    }

    /// `simple-key = lcalpha 0*255(keychar)` or `tenant-id "@" system-id`
    /// (`(lcalpha / DIGIT) 0*240(keychar)` and `lcalpha 0*13(keychar)`).
    static func isValidKey(_ key: Substring) -> Bool {
        let utf8 = Array(key.utf8)
        if let at = utf8.firstIndex(of: UInt8(ascii: "@")) {
            let tenant = utf8[..<at], system = utf8[(at + 1)...]
            guard (1...241).contains(tenant.count), (1...14).contains(system.count),
                  isLowerAlpha(tenant.first!) || isDigit(tenant.first!), isLowerAlpha(system.first!) else { return false }
            return tenant.allSatisfy(isKeyChar) && system.allSatisfy(isKeyChar)
        }
        guard (1...256).contains(utf8.count), isLowerAlpha(utf8[0]) else { return false }
        return utf8.allSatisfy(isKeyChar)
    }

    /// `value = 0*255(chr) nblk-chr`: printable ASCII except `,` and `=`, not ending in a space.
    static func isValidValue(_ value: Substring) -> Bool {
        let utf8 = Array(value.utf8)
        guard (1...256).contains(utf8.count), utf8.last != UInt8(ascii: " ") else { return false }
        return utf8.allSatisfy { c in
            (0x20...0x7e).contains(c) && c != UInt8(ascii: ",") && c != UInt8(ascii: "=")
        }
    }

    private static func isLowerHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) }
    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private static func isLowerAlpha(_ c: UInt8) -> Bool { c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") }
    private static func isKeyChar(_ c: UInt8) -> Bool {
        isLowerAlpha(c) || isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
            || c == UInt8(ascii: "*") || c == UInt8(ascii: "/")
    }
}

extension Hex {
    /// Decodes hex digits already checked to be valid.
    static func decode(_ digits: ArraySlice<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(digits.count / 2)
        var i = digits.startIndex
        while i < digits.endIndex {
            out.append(nibble(digits[i])! << 4 | nibble(digits[i + 1])!)
            i += 2
        }
        return out
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = self[...]
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
