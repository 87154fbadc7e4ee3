import HTTPClient
import Tracing

/// The MCP CLIENT span of one JSON-RPC message (OpenTelemetry's MCP conventions, `gen-ai/mcp.md`):
/// named by the method (`tools/call echo` for a tool), parent of the HTTP CLIENT span that carries
/// the message, whose `params._meta` carries this span's context. It ends with the answer, and
/// its duration goes to `mcp.client.operation.duration`. The session id is never recorded.
struct MCPClientSpan {
    let span: Span
    let message: MCPMessage
    private let start = ContinuousClock.now
    /// What the span and the duration metric share (`mcp.method.name`, `gen_ai.tool.name`, `server.*`, `network.transport`).
    private let common: [Attribute]

    /// How the message was answered, as the span records it.
    enum Answer {
        /// A JSON-RPC response (or none) in an HTTP answer with this status.
        case response(JSONRPCResponse?, httpStatus: Int)
        /// A notification's HTTP answer.
        case accepted(httpStatus: Int)
        /// The exchange failed in transport, or no answer came (`error.type` given).
        case failed(ProbeErrorType)
    }

    init(_ message: MCPMessage, url: String, tracer: Tracer) {
        self.message = message
        var common = [Attribute("mcp.method.name", .string(message.method)), Attribute("network.transport", .string("tcp")),
                      Attribute("network.protocol.name", .string("http"))]
        if let tool = message.toolName {
            common += [Attribute("gen_ai.tool.name", .string(tool)), Attribute("gen_ai.operation.name", .string("execute_tool"))]
        }
        common += URLSpanAttributes.of(url).filter { $0.key != "url.full" }
        self.common = common
        let id = message.id.map { [Attribute("jsonrpc.request.id", .string(String($0)))] } ?? []
        span = tracer.startSpan(message.spanName, kind: .client, attributes: common + id)
    }

    /// The message's body, its `_meta` carrying this span's context.
    var body: [UInt8] { message.body(trace: span.context) }

    /// Runs `exchange` (the HTTP request carrying the message) as this span's child.
    func carrying<T: Sendable>(_ exchange: () async -> T) async -> T {
        await Span.$current.withValue(span, operation: exchange)
    }

    func end(_ answer: Answer, protocolVersion: String?, httpVersion: String?, target: String, metrics: ProbeMetrics?) {
        var attributes = common
        if let protocolVersion { attributes.append(Attribute("mcp.protocol.version", .string(protocolVersion))) }
        if let httpVersion { attributes.append(Attribute("network.protocol.version", .string(httpVersion))) }
        let (errorType, code) = Self.error(answer)
        if let code { attributes.append(Attribute("rpc.response.status_code", .string(String(code)))) }
        if let errorType { attributes.append(Attribute("error.type", .string(errorType))) }
        span.setAttributes(attributes)
        if let errorType { span.setStatus(.error(code.map(JSONRPCErrorCode.describe) ?? errorType)) }
        span.end()
        metrics?.recordMCPOperation((ContinuousClock.now - start).seconds, target: target, attributes: attributes)
    }

    /// `error.type` (the JSON-RPC code as text, `tool_error`, or our bounded class) and the JSON-RPC code.
    static func error(_ answer: Answer) -> (String?, Int?) {
        switch answer {
        case .response(.error(let code)?, _): (String(code), code)
        case .response(.result(let result)?, _): (result["isError"] as? Bool == true ? "tool_error" : nil, nil)
        case .response(.idMismatch?, _): (ProbeErrorType.jsonRPCIDMismatch.rawValue, nil)
        case .response(_, let status), .accepted(let status): (httpErrorType(status)?.rawValue
            ?? (isAnswer(answer) ? ProbeErrorType.invalidResponse.rawValue : nil), nil)
        case .failed(let type): (type.rawValue, nil)
        }
    }

    private static func isAnswer(_ answer: Answer) -> Bool {
        if case .response = answer { true } else { false }
    }

    private static func httpErrorType(_ status: Int) -> ProbeErrorType? {
        switch status {
        case 200..<300: nil
        case 300..<400: .redirect
        case 500...: .http5xx
        default: .http4xx
        }
    }
}
