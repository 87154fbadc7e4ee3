/// W3C Trace Context (`traceparent` / `tracestate`) formatting and parsing.
public enum W3CTraceContext {
    /// `00-<trace-id>-<span-id>-<flags>`, lowercase hex.
    public static func traceparent(_ context: SpanContext) -> String {
        let flags = context.traceFlags.rawValue
        let hex = Array("0123456789abcdef")
        return "00-\(context.traceID.hex)-\(context.spanID.hex)-\(hex[Int(flags >> 4)])\(hex[Int(flags & 0xf)])"
    }

    /// Parses a `traceparent` header as the spec says: lowercase hex only, no all-zero ids,
    /// version `ff` invalid, future versions parsed by their first 55 characters.
    public static func parse(traceparent: String, tracestate: String? = nil) -> SpanContext? {
        let utf8 = Array(traceparent.utf8)
        guard utf8.count >= 55 else { return nil }
        func isLowerHex(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
        }
        let dash = UInt8(ascii: "-")
        guard utf8[2] == dash, utf8[35] == dash, utf8[52] == dash else { return nil }
        for (i, c) in utf8.prefix(55).enumerated() where i != 2 && i != 35 && i != 52 {
            guard isLowerHex(c) else { return nil }
        }
        let version = String(decoding: utf8[0..<2], as: UTF8.self)
        guard version != "ff" else { return nil }
        if version == "00" {
            guard utf8.count == 55 else { return nil }
        } else if utf8.count > 55 {
            guard utf8[55] == dash else { return nil }
        }
        guard let traceID = TraceID(hex: String(decoding: utf8[3..<35], as: UTF8.self)), traceID.isValid,
              let spanID = SpanID(hex: String(decoding: utf8[36..<52], as: UTF8.self)), spanID.isValid,
              let flagBytes = Hex.decode(String(decoding: utf8[53..<55], as: UTF8.self)) else { return nil }
        return SpanContext(traceID: traceID, spanID: spanID, traceFlags: TraceFlags(rawValue: flagBytes[0]),
                           traceState: tracestate.flatMap(validTraceState) ?? "", isRemote: true)
    }

    /// Returns the tracestate if it is well formed (≤ 32 list members of `key=value`), else nil.
    static func validTraceState(_ value: String) -> String? {
        let members = value.split(separator: ",", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
        guard members.count <= 32 else { return nil }
        for member in members {
            guard let eq = member.firstIndex(of: "="), eq != member.startIndex,
                  member.index(after: eq) != member.endIndex else { return nil }
        }
        return members.joined(separator: ",")
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
