// Yams' own copy of libyaml (a module of the Yams package): its event stream is the only way to
// look at a document before Yams builds a tree from it.
import CYaml

/// Bounds a YAML document before Yams composes it. A few hundred bytes of nested aliases can
/// stand for billions of nodes: Yams shares the aliased node, but hashing mapping keys and every
/// walk over the tree expand it. So the node count with every alias expanded is limited, and so
/// is nesting (our decoders and Yams' composer recurse). One pass over libyaml's events, O(file).
enum YAMLLimits {
    static let maxNodes = 1_000_000
    static let maxDepth = 64

    /// The first limit the document breaks, located; nil within bounds. A syntax error is left
    /// for Yams to report.
    static func check(_ yaml: String, file: String) -> ConfigError? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(yaml.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var walk = Walk()
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                guard event.type != YAML_STREAM_END_EVENT else { return nil }
                if let problem = walk.visit(event) {
                    let mark = event.start_mark
                    return ConfigError(file: file, line: mark.line + 1, column: mark.column + 1, path: walk.path, message: problem)
                }
            }
            return nil
        }
    }

    /// The running counts: nodes so far (aliases expanded), each anchor's expanded size, and the
    /// open collections with where they are, for the error's field path.
    private struct Walk {
        struct Open {
            var isMapping: Bool
            var anchor: String?
            var nodesBefore: Int
            var children = 0
            var key = ""
        }
        var nodes = 0
        var anchorSizes: [String: Int] = [:]
        var open: [Open] = []

        mutating func visit(_ event: yaml_event_t) -> String? {
            switch event.type {
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                if let top = open.last, top.isMapping, top.children % 2 == 0, let value = scalar.value {
                    open[open.count - 1].key = String(decoding: UnsafeBufferPointer(start: value, count: scalar.length), as: UTF8.self)
                }
                if let anchor = text(scalar.anchor) { anchorSizes[anchor] = 1 }
                return added(1)
            case YAML_ALIAS_EVENT:
                if isAtKey { return complexKey() }
                return added(text(event.data.alias.anchor).flatMap { anchorSizes[$0] } ?? 1)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let anchor = text(isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor)
                if isAtKey { return complexKey() }
                if open.count == YAMLLimits.maxDepth { return "nested more than \(YAMLLimits.maxDepth) levels deep" }
                open.append(Open(isMapping: isMapping, anchor: anchor, nodesBefore: nodes))
                nodes += 1
                return nil
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                let closed = open.removeLast()
                if let anchor = closed.anchor { anchorSizes[anchor] = nodes - closed.nodesBefore }
                if !open.isEmpty { open[open.count - 1].children += 1 }
                return nil
            default:
                return nil
            }
        }

        /// No config key is a list, a mapping or an alias; Yams would report a repeat of such keys
        /// at whichever of them its dictionary yields first, so they are refused here, in order.
        private mutating func complexKey() -> String {
            open[open.count - 1].key = ""  // the path ends at the mapping, not at the key before
            return "a mapping key must be a single value, not a list, mapping or alias"
        }

        private var isAtKey: Bool {
            guard let top = open.last else { return false }
            return top.isMapping && top.children % 2 == 0
        }

        /// Counts a scalar or alias of `size` nodes (before it counts as a child, so `path` points at it).
        private mutating func added(_ size: Int) -> String? {
            nodes += size
            if nodes > YAMLLimits.maxNodes {
                return "the document has more than \(YAMLLimits.maxNodes) nodes with its aliases expanded (aliases of aliases multiply)"
            }
            if !open.isEmpty { open[open.count - 1].children += 1 }
            return nil
        }

        /// The field being read, as in every other config error (`targets[0].mcp.deep`).
        var path: String {
            open.reduce("") { path, level in
                if level.isMapping { return level.key.isEmpty ? path : ConfigNode.join(path, level.key) }
                return path + "[\(level.children)]"
            }
        }

        private func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: $0) }
        }
    }
}
