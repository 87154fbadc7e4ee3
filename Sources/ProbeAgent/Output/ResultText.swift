import Foundation
import HTTPClient
import ProbeLogic
import Tracing

/// How `check` prints one probe run.
enum ResultText {
    static func human(_ run: ProbeRun, url: String) -> String {
        let r = run.report
        var rows: [(String, String)] = [
            ("target", "\(run.target) (\(HTTPURL.redact(url)))"),
            ("status", r.outcome.health.rawValue + (r.outcome.message.isEmpty ? "" : " — \(r.outcome.message)")),
            ("probe type", r.probeType.rawValue),
        ]
        if let transport = r.transport { rows.append(("transport", transport.rawValue)) }
        if let status = r.httpStatus { rows.append(("http status", String(status))) }
        if let error = r.outcome.errorType { rows.append(("error type", error.rawValue)) }
        if let status = r.attributes["auth.status"]?.stringValue {
            rows.append(("auth", status + (r.attributes["auth.reason"]?.stringValue.map { " (\($0))" } ?? "")))
        }
        if let server = r.server {
            rows.append(("mcp protocol", server.protocolVersion))
            rows.append(("server", [server.serverName, server.serverVersion].compactMap { $0 }.joined(separator: " ")))
        }
        if case .int(let count)? = r.attributes["mcp.tools.count"] { rows.append(("tools", String(count))) }
        if let tool = r.attributes["mcp.tool.name"]?.stringValue { rows.append(("tool call", tool)) }
        rows.append(("duration", DurationText.format(run.duration)))
        rows.append(("trace id", run.traceID.hex))
        return rows.map { $0.0.padding(toLength: 13, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
    }

    static func json(_ run: ProbeRun, url: String) -> String {
        let r = run.report
        var object: [String: Any] = [
            "target": run.target,
            "url": HTTPURL.redact(url),
            "health_status": r.outcome.health.rawValue,
            "success": r.outcome.health.isSuccess,
            "probe_type": r.probeType.rawValue,
            "duration_seconds": run.duration.seconds,
            "trace_id": run.traceID.hex,
            "span_id": run.spanID.hex,
        ]
        if !r.outcome.message.isEmpty { object["message"] = r.outcome.message }
        if let transport = r.transport { object["mcp_transport"] = transport.rawValue }
        if let status = r.httpStatus { object["http_status_code"] = status }
        if let error = r.outcome.errorType { object["error_type"] = error.rawValue }
        if let status = r.attributes["auth.status"]?.stringValue { object["auth_status"] = status }
        if let reason = r.attributes["auth.reason"]?.stringValue { object["auth_reason"] = reason }
        if let server = r.server {
            object["mcp_protocol_version"] = server.protocolVersion
            object["mcp_server_name"] = server.serverName
            if let version = server.serverVersion { object["mcp_server_version"] = version }
        }
        if case .int(let count)? = r.attributes["mcp.tools.count"] { object["mcp_tools_count"] = count }
        if let tool = r.attributes["mcp.tool.name"]?.stringValue { object["mcp_tool_name"] = tool }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Prints finished spans as an indented tree, children under parents.
enum SpanTreeText {
    static func render(_ spans: [SpanData]) -> String {
        let byParent = Dictionary(grouping: spans, by: { $0.parentSpanID })
        let ids = Set(spans.map { $0.context.spanID })
        let roots = spans.filter { $0.parentSpanID.map { !ids.contains($0) } ?? true }
        var lines: [String] = []
        func walk(_ span: SpanData, depth: Int) {
            let indent = String(repeating: "  ", count: depth)
            let ms = Double(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6
            let status = span.status.code == .error ? "ERROR \(span.status.message)" : "\(span.status.code)".uppercased()
            lines.append("\(indent)\(span.name) [\(span.kind)] \(String(format: "%.1f ms", ms)) \(status)  span \(span.context.spanID.hex)")
            for attribute in span.attributes { lines.append("\(indent)    \(attribute.key) = \(text(attribute.value))") }
            for event in span.events {
                let offset = Double(event.timeUnixNano &- span.startTimeUnixNano) / 1e6
                lines.append("\(indent)    event \(event.name) +\(String(format: "%.1f", offset)) ms \(event.attributes.map { "\($0.key)=\(text($0.value))" }.joined(separator: " "))")
            }
            for child in (byParent[span.context.spanID] ?? []).sorted(by: { $0.startTimeUnixNano < $1.startTimeUnixNano }) {
                walk(child, depth: depth + 1)
            }
        }
        for root in roots.sorted(by: { $0.startTimeUnixNano < $1.startTimeUnixNano }) {
            lines.append("trace \(root.context.traceID.hex)")
            walk(root, depth: 1)
        }
        return lines.joined(separator: "\n")
    }

    static func text(_ value: AttributeValue) -> String {
        switch value {
        case .string(let s): "\"\(s)\""
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): String(format: "%.3f", d)
        case .bytes(let b): "<\(b.count) bytes>"
        case .array(let a): "[" + a.map(text).joined(separator: ", ") + "]"
        case .map(let m): "{" + m.map { "\($0.key): \(text($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}
