import Foundation
import Tracing

/// Constants of the JSON-RPC messages the MCP probes send, and parsing of what comes back.
public enum MCPMessages {
    /// The newest handshake-era revision we speak; servers answer with one they support.
    public static let handshakeProtocolVersion = "2025-11-25"
    public static let clientName = "probe-agent"
    public static let initializeID = 1
}

/// One JSON-RPC message the probe sends. Its body is written once its MCP span has started, so
/// `params._meta` carries that span's `traceparent` (and `tracestate`): the MCP SDKs read trace
/// context there, not from the HTTP header (OpenTelemetry's MCP conventions, the 2026-07-28 spec).
public struct MCPMessage: Sendable, Equatable {
    public var method: String
    /// nil for a notification.
    public var id: Int?
    /// The members of `params` besides `_meta`, as JSON text without the braces.
    public var params: String
    /// The members of `params._meta` besides the trace context, as JSON text without the braces.
    public var meta: String
    /// For `tools/call`: the tool's name (the span is named `tools/call <name>`).
    public var toolName: String?

    public init(method: String, id: Int?, params: String = "", meta: String = "", toolName: String? = nil) {
        self.method = method
        self.id = id
        self.params = params
        self.meta = meta
        self.toolName = toolName
    }

    public static func initialize(clientVersion: String) -> MCPMessage {
        MCPMessage(method: "initialize", id: MCPMessages.initializeID, params:
            #""protocolVersion":"\#(MCPMessages.handshakeProtocolVersion)","capabilities":{},"clientInfo":{"name":"\#(MCPMessages.clientName)","version":"\#(clientVersion)"}"#)
    }

    static func notification(_ method: String) -> MCPMessage { MCPMessage(method: method, id: nil) }

    /// `tools/call` of `tool` with `argumentsJSON` (a JSON object's text).
    static func toolCall(id: Int, tool: String, argumentsJSON: String) -> MCPMessage {
        MCPMessage(method: "tools/call", id: id, params: #""name":\#(JSONText.string(tool)),"arguments":\#(argumentsJSON)"#,
                   toolName: tool)
    }

    /// The span's name: the method, and the tool for `tools/call`.
    var spanName: String { toolName.map { "\(method) \($0)" } ?? method }

    /// The JSON-RPC text, with `trace`'s context (when valid) first in `params._meta`.
    public func body(trace: SpanContext?) -> [UInt8] {
        var meta = self.meta
        if let trace, trace.isValid {
            var context = #""traceparent":"\#(W3CTraceContext.traceparent(trace))""#
            if !trace.traceState.isEmpty { context += #","tracestate":\#(JSONText.string(trace.traceState))"# }
            meta = meta.isEmpty ? context : context + "," + meta
        }
        var members = params
        if !meta.isEmpty { members += (members.isEmpty ? "" : ",") + #""_meta":{\#(meta)}"# }
        var text = #"{"jsonrpc":"2.0","#
        if let id { text += #""id":\#(id),"# }
        text += #""method":"\#(method)""#
        if id != nil || !members.isEmpty { text += #","params":{\#(members)}"# }
        return Array((text + "}").utf8)
    }
}

/// JSON string literals for the bodies we write.
enum JSONText {
    static func string(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}

/// What an MCP server said about itself in a valid `InitializeResult`.
public struct MCPServerFacts: Sendable, Equatable {
    public var protocolVersion: String
    public var serverName: String
    public var serverVersion: String?
    public var capabilities: [String]

    public init(protocolVersion: String, serverName: String, serverVersion: String?, capabilities: [String]) {
        self.protocolVersion = protocolVersion
        self.serverName = serverName
        self.serverVersion = serverVersion
        self.capabilities = capabilities
    }
}

/// A JSON-RPC reply to one of our requests, reduced to what the classification needs.
public enum JSONRPCReply: Sendable, Equatable {
    /// A valid `InitializeResult`.
    case initializeResult(MCPServerFacts)
    /// A `result` that is not a valid `InitializeResult` (the string says what is missing).
    case invalidResult(String)
    /// A JSON-RPC error; only its code is kept (see `JSONRPCErrorCode`).
    case error(code: Int)
    /// A JSON-RPC result for another request id: the server broke the protocol.
    case idMismatch
    /// Not a JSON-RPC 2.0 response.
    case notJSONRPC

    /// Parses one JSON-RPC message expected to answer `initialize` (request `expectedID`).
    public static func parse(_ bytes: some Collection<UInt8>, expectedID: Int = MCPMessages.initializeID) -> JSONRPCReply {
        JSONRPCReply(JSONRPCResponse.parse(bytes, id: expectedID))
    }

    /// The reply to `initialize` in a parsed response.
    init(_ response: JSONRPCResponse) {
        self = switch response {
        case .result(let result): Self.initialize(result)
        case .error(let code): .error(code: code)
        case .idMismatch: .idMismatch
        case .malformed: .notJSONRPC
        }
    }

    static func initialize(_ result: [String: Any]) -> JSONRPCReply {
        guard let version = result["protocolVersion"] as? String, !version.isEmpty else {
            return .invalidResult("result.protocolVersion missing")
        }
        guard let capabilities = result["capabilities"] as? [String: Any] else {
            return .invalidResult("result.capabilities missing")
        }
        guard let info = result["serverInfo"] as? [String: Any], let name = info["name"] as? String else {
            return .invalidResult("result.serverInfo.name missing")
        }
        return .initializeResult(MCPServerFacts(protocolVersion: version, serverName: name,
                                                serverVersion: info["version"] as? String,
                                                capabilities: capabilities.keys.sorted()))
    }

    /// True when `data` is a JSON-RPC response (a result or an error, not a server request or
    /// notification): the message that ends the wait for an answer. Whether its id is the
    /// request's is for `parse` to say, so a wrong id is reported when it arrives.
    static func isResponse(_ data: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return false }
        return object["method"] == nil && (object["result"] != nil || object["error"] != nil)
    }

    /// A JSON-RPC `id` is ours when it is our number or its string; `intValue` alone would also
    /// take `true`, `1.5` or 2^64+1 for 1.
    static func isID(_ value: Any?, _ id: Int) -> Bool {
        if let text = value as? String { return text == String(id) }
        guard let number = value as? NSNumber, !JSONPath.isBool(number) else { return false }
        return number.doubleValue == Double(id)
    }
}

/// One JSON-RPC response message to request `id`: the one parser of answers (`initialize`,
/// `server/discover`, `tools/*`).
enum JSONRPCResponse {
    case result([String: Any])
    /// Only the code is kept (see `JSONRPCErrorCode`).
    case error(code: Int)
    /// A result for another request id: the server broke the protocol.
    case idMismatch
    /// Not a JSON-RPC 2.0 response with an object result; the text says what is wrong.
    case malformed(String)

    /// The version a result names (`initialize`'s negotiated one), for the MCP span.
    var protocolVersion: String? {
        if case .result(let result) = self { result["protocolVersion"] as? String } else { nil }
    }

    static func parse(_ bytes: some Collection<UInt8>, id: Int) -> JSONRPCResponse {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              object["jsonrpc"] as? String == "2.0" else { return .malformed("without a JSON-RPC answer") }
        if let error = object["error"] as? [String: Any] {
            return .error(code: (error["code"] as? NSNumber)?.intValue ?? 0)
        }
        guard object["result"] != nil else { return .malformed("JSON-RPC answer without a result") }
        guard JSONRPCReply.isID(object["id"], id) else { return .idMismatch }
        guard let result = object["result"] as? [String: Any] else { return .malformed("JSON-RPC result is not an object") }
        return .result(result)
    }
}

/// A JSON-RPC error as outcome messages show it: the code and what JSON-RPC says it means. The
/// server's own `message` is left out: it may echo what the request carried (a tool's arguments,
/// a header, a token), and it would land in spans, logs and /status.
public enum JSONRPCErrorCode {
    public static func describe(_ code: Int) -> String {
        let meaning = switch code {
        case -32700: "parse error"
        case -32600: "invalid request"
        case -32601: "method not found"
        case -32602: "invalid params"
        case -32603: "internal error"
        case -32099 ... -32000: "server error"
        default: "application error"
        }
        return "JSON-RPC \(code) (\(meaning))"
    }
}
