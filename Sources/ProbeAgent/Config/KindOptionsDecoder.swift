import Foundation
import ProbeLogic
import Yams

/// The `mcp:` and `http:` option blocks of a target.
enum KindOptionsDecoder {
    static func decodeMCP(_ node: ConfigNode) -> MCPOptions {
        var options = MCPOptions()
        guard let fields = ConfigMapping(node, keys: ["era", "send_initialized", "deep"] + answerCheckKeys) else { return options }
        if let era = fields["era"]?.choice(MCPEra.self) { options.era = era }
        options.expect = decodeAnswerChecks(fields)
        if let value = fields["send_initialized"]?.bool() { options.sendInitialized = value }
        if let deep = fields["deep"] {
            if case .scalar = deep.node { options.deep = deep.bool() == true ? DeepCheck() : nil }  // `deep: true`
            else { options.deep = decodeDeep(deep) }
        }
        return options
    }

    static func decodeDeep(_ node: ConfigNode) -> DeepCheck? {
        guard let fields = ConfigMapping(node, keys: ["list_tools", "tool_call", "on_failure"]) else { return nil }
        var deep = DeepCheck()
        if let value = fields["list_tools"]?.bool() { deep.listTools = value }
        if let value = fields["on_failure"]?.choice(DeepCheck.OnFailure.self) { deep.onFailure = value }
        if let call = fields["tool_call"], let callFields = ConfigMapping(call, keys: ["name", "arguments", "expect_contains"]) {
            let name = callFields.required("name", "the tool's name")?.nonEmptyText("the tool's name")
            var toolCall = ToolCall(name: name ?? "")
            if let arguments = callFields["arguments"] {
                if case .mapping = arguments.node { toolCall.argumentsJSON = JSONText.encode(arguments) }
                else { arguments.report("expected a mapping of argument names to values, got \(arguments.kindName)") }
            }
            toolCall.expectContains = callFields["expect_contains"]?.text()
            deep.toolCall = toolCall
        }
        return deep
    }

    static func decodeHTTP(_ node: ConfigNode) -> HTTPCheck {
        var check = HTTPCheck()
        guard let fields = ConfigMapping(node, keys: ["method", "body", "expected_status", "follow_redirects"] + answerCheckKeys)
        else { return check }
        if let method = fields["method"], let text = method.text() {
            if !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isUppercase }) { check.method = text }
            else { method.report("\"\(text)\" is not an HTTP method (expected e.g. GET, HEAD, POST)") }
        }
        check.body = fields["body"]?.text()
        if let node = fields["expected_status"], let statuses = node.list(singleAllowed: true) {
            if statuses.isEmpty { node.report("is empty (expected e.g. [200] or [2xx, 304])") }
            else { check.expectedStatus = statuses.compactMap(statusRange) }
        }
        check.expect = decodeAnswerChecks(fields)
        if let value = fields["follow_redirects"]?.bool() { check.followRedirects = value }
        return check
    }

    static let answerCheckKeys = ["body_matches", "body_not_matches", "json_fields", "header_matches"]

    /// What the main answer must satisfy; the same keys in `http:` and `mcp:`.
    static func decodeAnswerChecks(_ fields: ConfigMapping) -> AnswerChecks {
        AnswerChecks(
            bodyMatches: (fields["body_matches"]?.list(singleAllowed: true) ?? []).compactMap(regex),
            bodyNotMatches: (fields["body_not_matches"]?.list(singleAllowed: true) ?? []).compactMap(regex),
            jsonFields: (fields["json_fields"]?.textEntries() ?? []).map { JSONFieldAssertion(path: $0.key, equals: $0.value) },
            headerMatches: (fields["header_matches"]?.entries() ?? []).compactMap { name, value in
                guard !name.isEmpty, name.allSatisfy(HeaderDecoder.isTokenCharacter) else {
                    return value.fail("\"\(name)\" is not an HTTP header name")
                }
                return regex(value).map { HeaderAssertion(name: name, regex: $0) }
            })
    }

    /// `200`, `2xx` or `200-204`.
    static func statusRange(_ node: ConfigNode) -> ClosedRange<Int>? {
        guard let text = node.text()?.lowercased() else { return nil }
        let valid = 100...599
        if text.count == 3, text.hasSuffix("xx"), let digit = text.first?.wholeNumberValue, (1...5).contains(digit) {
            return digit * 100...digit * 100 + 99
        }
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        if bounds.count == 1, let code = bounds[0], valid.contains(code) { return code...code }
        if bounds.count == 2, let low = bounds[0], let high = bounds[1], valid.contains(low), valid.contains(high), low <= high {
            return low...high
        }
        return node.fail("\"\(text)\" is not a status (expected e.g. 200, 2xx or 200-204, codes 100-599)")
    }

    /// A regular expression, compiled here once for every probe.
    static func regex(_ node: ConfigNode) -> RegularExpression? {
        guard let text = node.text() else { return nil }
        return (try? RegularExpression(text)) ?? node.fail("\"\(text)\" is not a valid regular expression")
    }
}

/// A YAML value as JSON text (tool-call arguments), keeping key order; strings get `${VAR}` expansion.
enum JSONText {
    static func encode(_ node: ConfigNode) -> String {
        switch node.node {
        case .mapping(let mapping):
            let members = mapping.map { pair in
                quote(pair.key.scalar?.string ?? "") + ":" + encode(node.child(pair.key.scalar?.string ?? "", pair.value))
            }
            return "{" + members.joined(separator: ",") + "}"
        case .sequence(let sequence):
            return "[" + sequence.enumerated().map { index, element in
                encode(ConfigNode(element, path: "\(node.path)[\(index)]", context: node.context))
            }.joined(separator: ",") + "]"
        case .scalar(let scalar):
            switch Resolver.default.resolveTag(of: node.node) {
            case .null: return "null"
            case .bool where ["true", "false"].contains(scalar.string.lowercased()): return scalar.string.lowercased()
            // Yams' sexagesimal ints (`1:30`) overflow into a trap; those stay text.
            case .int where !scalar.string.contains(":"): return node.node.int.map(String.init) ?? quote(scalar.string)
            case .float:
                guard let value = node.node.float, value.isFinite else { return quote(scalar.string) }
                return "\(value)"
            default: return quote(node.text() ?? "")
            }
        case .alias:
            return "null"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
