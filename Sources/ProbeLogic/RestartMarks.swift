import Foundation

/// Reads the restart marks of one probe: the MCP server version, and configured header and JSON
/// field values. Pure: the caller fetches separate documents (`url:` signals) beforehand.
public enum RestartMarks {
    /// - Parameter documents: bodies fetched for signals with their own URL, keyed by that URL.
    public static func extract(signals: [RestartSignal], report: ProbeReport,
                               documents: [String: [UInt8]] = [:]) -> [String: RestartMark] {
        var marks: [String: RestartMark] = [:]
        if let version = report.server?.serverVersion { marks["mcp.server.version"] = RestartMark(version) }
        for signal in signals {
            switch signal {
            case .headerChanges(let name):
                if let value = report.responseHeaders?[name] { marks["header \(name)"] = RestartMark(value) }
            case .jsonFieldChanges(let url, let path), .jsonFieldDecreases(let url, let path):
                let body: [UInt8]? = if let url { documents[url] } else { report.responseBody }
                guard let body, let value = JSONPath.text(at: path, in: body) else { continue }
                let rule: RestartMark.Rule = if case .jsonFieldDecreases = signal { .decreases } else { .changes }
                marks["json \(path)"] = RestartMark(value, rule: rule)
            }
        }
        return marks
    }

    /// The URLs that must be fetched for `signals`.
    public static func documentURLs(_ signals: [RestartSignal]) -> [String] {
        signals.compactMap {
            switch $0 {
            case .jsonFieldChanges(let url?, _), .jsonFieldDecreases(let url?, _): url
            default: nil
            }
        }
    }
}

/// Dotted paths into JSON documents: `status`, `mcp_runtime.pod_id`, `checks.0.state`.
public enum JSONPath {
    /// The value at `path` as text: strings as they are, numbers and booleans as JSON writes them.
    /// nil when the document is not JSON, the path is missing, or the value is an object/array/null.
    public static func text(at path: String, in body: [UInt8]) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else { return nil }
        return text(at: path, in: root)
    }

    public static func text(at path: String, in root: Any) -> String? {
        var node: Any = root
        for component in path.split(separator: ".", omittingEmptySubsequences: false) {
            if let object = node as? [String: Any], let next = object[String(component)] {
                node = next
            } else if let array = node as? [Any], let index = Int(component), array.indices.contains(index) {
                node = array[index]
            } else {
                return nil
            }
        }
        switch node {
        case let string as String: return string
        case let number as NSNumber:
            // JSON booleans decode as NSNumber with objCType "c" (Linux and Darwin alike).
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        default: return nil
        }
    }
}
