/// One problem in a config file, located well enough to fix it without searching.
/// Messages never quote secret values.
struct ConfigError: Error, Equatable, CustomStringConvertible {
    var file: String
    var line: Int?
    var column: Int?
    /// The field, e.g. `targets[2].auth.token_file` (empty for the whole file).
    var path: String
    var message: String

    var description: String {
        var location = file
        if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}

/// Every problem found in one config file, in file order.
struct ConfigErrors: Error, Equatable, CustomStringConvertible {
    var errors: [ConfigError]

    init(_ errors: [ConfigError]) { self.errors = errors }

    /// Past this many, a file is broken throughout: the rest is a count, not a wall of lines
    /// (on stderr, or in the one log line of a failed reload).
    static let shown = 100

    var description: String {
        let more = errors.count > Self.shown ? ["… and \(errors.count - Self.shown) more errors"] : []
        return (errors.prefix(Self.shown).map(\.description) + more).joined(separator: "\n")
    }
}
