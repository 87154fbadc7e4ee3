/// Reads OTEL_* variables by the SDK's parsing rules (otlp.md §6.1): empty = unset; a value that
/// does not parse or is out of range is reported in `warnings` and treated as unset.
struct EnvironmentValues {
    let env: [String: String]
    var warnings: [String] = []

    init(_ env: [String: String]) { self.env = env }

    /// The trimmed value, or nil when unset or empty.
    func raw(_ name: String) -> String? {
        guard let value = env[name]?.trimmingCharacters(in: " \t"), !value.isEmpty else { return nil }
        return value
    }

    /// An integer in `range` (the spec's integers are 0 … 2^31-1).
    mutating func integer(_ name: String, in range: ClosedRange<Int> = 0...Int(Int32.max)) -> Int? {
        guard let text = raw(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            warnings.append("\(name)=\(text) is not an integer in \(range.lowerBound)...\(range.upperBound); using the default")
            return nil
        }
        return value
    }

    /// A non-negative millisecond duration.
    mutating func duration(_ name: String) -> Duration? {
        integer(name).map { .milliseconds($0) }
    }

    /// A millisecond timeout where 0 means no limit (the spec allows 2^31-1 ms to stand in).
    mutating func timeout(_ name: String) -> Duration? {
        integer(name).map { $0 == 0 ? .milliseconds(Int(Int32.max)) : .milliseconds($0) }
    }

    /// A case-insensitive enum value, lowercased; unknown values are reported and ignored.
    mutating func choice(_ name: String, among allowed: [String]) -> String? {
        guard let text = raw(name) else { return nil }
        let value = text.lowercased()
        guard allowed.contains(value) else {
            warnings.append("\(name)=\(text) is not one of \(allowed.joined(separator: ", ")); using the default")
            return nil
        }
        return value
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
