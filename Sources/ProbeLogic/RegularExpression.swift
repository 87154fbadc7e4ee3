import Foundation

/// A regular expression from the config (ICU syntax), compiled once at load and matched by every
/// probe (blackbox_exporter's `config.Regexp`). Equal when the patterns are.
public struct RegularExpression: Sendable, Equatable, CustomStringConvertible {
    public let pattern: String
    private let compiled: NSRegularExpression

    /// Throws for a pattern that does not compile.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        compiled = try NSRegularExpression(pattern: pattern)
    }

    /// Whether the pattern matches anywhere in `text`.
    public func matches(_ text: String) -> Bool {
        compiled.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    public var description: String { pattern }

    public static func == (a: Self, b: Self) -> Bool { a.pattern == b.pattern }
}
