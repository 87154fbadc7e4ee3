import Yams

/// What one load shares: where values come from and the errors and warnings found so far.
final class ConfigContext {
    let file: String
    let environment: [String: String]
    let readFile: (String) throws -> String
    /// Relative file paths in the config are taken relative to this directory (nil: as written).
    let baseDirectory: String?
    private(set) var errors: [ConfigError] = []
    /// Problems that do not stop the load (a restart signal that can never fire).
    private(set) var warnings: [ConfigError] = []

    init(file: String, environment: [String: String], baseDirectory: String?, readFile: @escaping (String) throws -> String) {
        self.file = file
        self.environment = environment
        self.baseDirectory = baseDirectory
        self.readFile = readFile
    }

    func report(_ message: String, path: String, at mark: Mark?) {
        errors.append(ConfigError(file: file, line: mark?.line, column: mark?.column, path: path, message: message))
    }

    func warn(_ message: String, path: String, at mark: Mark?) {
        warnings.append(ConfigError(file: file, line: mark?.line, column: mark?.column, path: path, message: message))
    }
}

/// A YAML node together with its field path, so every problem can be reported where it is.
struct ConfigNode {
    let node: Node
    let path: String
    let context: ConfigContext

    init(_ node: Node, path: String, context: ConfigContext) {
        self.node = node
        self.path = path
        self.context = context
    }

    var mark: Mark? { node.mark }

    /// Reports a problem with this node. Returns nil so decoders can `return fail(...)`.
    func fail<T>(_ message: String) -> T? {
        report(message)
        return nil
    }

    func report(_ message: String) { context.report(withoutEnvironmentValues(message), path: path, at: mark) }

    /// A problem with this node that does not stop the load.
    func warn(_ message: String) { context.warn(withoutEnvironmentValues(message), path: path, at: mark) }

    /// A value from the environment may be a secret: a message shows it as the `${NAME}` it came
    /// from, whatever the message made of the value (quoted, redacted, part of a URL).
    private func withoutEnvironmentValues(_ message: String) -> String {
        guard case .scalar(let scalar) = node, scalar.string.contains("${") else { return message }
        let substituted = EnvInterpolation.references(in: scalar.string)
            .compactMap { name in context.environment[name].map { (name: name, value: $0) } }
            .filter { !$0.value.isEmpty }
            .sorted { $0.value.count > $1.value.count }
        return substituted.reduce(message) { $0.replacingOccurrences(of: $1.value, with: "${\($1.name)}") }
    }

    func child(_ key: String, _ node: Node) -> ConfigNode {
        ConfigNode(node, path: ConfigNode.join(path, key), context: context)
    }

    static func join(_ path: String, _ key: String) -> String {
        let plain = !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        if !plain { return path + "[\(key.debugDescription)]" }  // quoted, control characters escaped
        return path.isEmpty ? key : path + "." + key
    }

    /// `~`, `null` or nothing at all after the colon.
    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    var kindName: String {
        switch node {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The elements of a list; a single value counts as a one-element list when `singleAllowed`.
    func list(singleAllowed: Bool = false) -> [ConfigNode]? {
        switch node {
        case .sequence(let sequence):
            return sequence.enumerated().map { ConfigNode($1, path: "\(path)[\($0)]", context: context) }
        case .scalar where singleAllowed:
            return [self]
        default:
            return fail("expected a list, got \(kindName)")
        }
    }

    /// The entries of a mapping whose keys are free-form (labels, headers), in file order.
    func entries() -> [(key: String, value: ConfigNode)]? {
        guard case .mapping(let mapping) = node else { return fail("expected a mapping, got \(kindName)") }
        return mapping.map { pair in
            let key = pair.key.scalar?.string ?? ""
            return (key, ConfigNode(pair.value, path: ConfigNode.join(path, key), context: context))
        }
    }
}

/// A mapping with a fixed set of keys. Unknown keys are reported once, with the nearest known key.
struct ConfigMapping {
    let owner: ConfigNode
    private var values: [String: ConfigNode] = [:]

    init?(_ owner: ConfigNode, keys known: [String]) {
        self.owner = owner
        guard case .mapping(let mapping) = owner.node else {
            owner.report("expected a mapping with \(ConfigMapping.list(known)), got \(owner.kindName)")
            return nil
        }
        for (keyNode, valueNode) in ConfigMapping.mergedPairs(mapping) {
            let key = keyNode.scalar?.string ?? ""
            let field = ConfigNode(keyNode, path: ConfigNode.join(owner.path, key), context: owner.context)
            guard known.contains(key) else {
                let hint = KeySuggestion.nearest(to: key, among: known).map { "did you mean '\($0)'?" }
                    ?? "expected \(ConfigMapping.list(known))"
                field.report("unknown field (\(hint))")
                continue
            }
            values[key] = ConfigNode(valueNode, path: field.path, context: owner.context)
        }
    }

    /// Applies YAML merge keys (`<<: *anchor`): merged entries fill in keys not given explicitly.
    private static func mergedPairs(_ mapping: Node.Mapping) -> [(Node, Node)] {
        var pairs = mapping.filter { $0.key.scalar?.string != "<<" }.map { ($0.key, $0.value) }
        var keys = Set(pairs.map { $0.0.scalar?.string })
        for pair in mapping where pair.key.scalar?.string == "<<" {
            let sources: [Node] = pair.value.sequence.map(Array.init) ?? [pair.value]
            for case .mapping(let source) in sources {
                for merged in mergedPairs(source) where keys.insert(merged.0.scalar?.string).inserted {
                    pairs.append(merged)
                }
            }
        }
        return pairs
    }

    private static func list(_ keys: [String]) -> String {
        keys.count == 1 ? "'\(keys[0])'" : "one of: " + keys.joined(separator: ", ")
    }

    /// The value under `key`; nil when absent or null.
    subscript(key: String) -> ConfigNode? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    /// The value under `key`, or an error (at the mapping) saying it is required and what it should be.
    func required(_ key: String, _ expected: String) -> ConfigNode? {
        if let value = self[key] { return value }
        owner.context.report("required field is missing (expected \(expected))", path: ConfigNode.join(owner.path, key), at: owner.mark)
        return nil
    }

    /// A node for reporting about `key` whether or not it is present.
    func field(_ key: String) -> ConfigNode {
        values[key] ?? ConfigNode(owner.node, path: ConfigNode.join(owner.path, key), context: owner.context)
    }
}
