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

    var description: String { errors.map(\.description).joined(separator: "\n") }
}
