import HTTPClient
import Tracing
import XCTest
@testable import ProbeLogic

final class SSEParserTests: XCTestCase {
    func testLineEndingsCommentsMultilineAndPriming() {
        let inputs = [
            "event: endpoint\ndata: /messages/?session_id=abc\n\n",
            "event: endpoint\r\ndata: /messages/?session_id=abc\r\n\r\n",
            "event: endpoint\rdata: /messages/?session_id=abc\r\r",
            ": comment\nevent:endpoint\ndata:/messages/?session_id=abc\n\n",
        ]
        for input in inputs {
            var parser = SSEParser()
            XCTAssertEqual(parser.feed(Array(input.utf8)), [SSEEvent(event: "endpoint", data: "/messages/?session_id=abc")], input)
        }
        var parser = SSEParser()
        let priming = "id: 1:1\ndata: \nretry: 3000\n\nid: 1:2\nevent: message\ndata: {\"a\":1}\ndata: {\"b\":2}\n\n"
        XCTAssertEqual(parser.feed(Array(priming.utf8)), [SSEEvent(event: "message", data: "{\"a\":1}\n{\"b\":2}", id: "1:2")])
    }

    func testEventsSplitAcrossChunksAndCRLFSplit() {
        let text = Array("data: hello\r\n\r\ndata: world\n\n".utf8)
        for split in 0...text.count {
            var parser = SSEParser()
            let events = parser.feed(text[..<split]) + parser.feed(text[split...])
            XCTAssertEqual(events.map(\.data), ["hello", "world"], "split at \(split)")
        }
    }

    func testLongLinesAreCut() {
        var parser = SSEParser(maxLineBytes: 10)
        let events = parser.feed(Array(("data: " + String(repeating: "x", count: 100) + "\n\n").utf8))
        XCTAssertEqual(events.first?.data.count, 4)  // "data: " takes 6 of the 10 bytes
    }
}

final class JSONRPCReplyTests: XCTestCase {
    func testInitializeResultValidation() {
        let good = #"{"jsonrpc":"2.0","id":1,"result":{"capabilities":{"tools":{}},"protocolVersion":"2025-11-25","serverInfo":{"name":"probe-test","version":"0.0.1"}}}"#
        XCTAssertEqual(JSONRPCReply.parse(Array(good.utf8)),
                       .initializeResult(MCPServerFacts(protocolVersion: "2025-11-25", serverName: "probe-test", serverVersion: "0.0.1", capabilities: ["tools"])))
        let table: [(String, JSONRPCReply)] = [
            (#"{"jsonrpc":"2.0","id":1,"result":{"capabilities":{},"serverInfo":{"name":"x"}}}"#, .invalidResult("result.protocolVersion missing")),
            (#"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"v","serverInfo":{"name":"x"}}}"#, .invalidResult("result.capabilities missing")),
            (#"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"v","capabilities":{}}}"#, .invalidResult("result.serverInfo.name missing")),
            (#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad Request"}}"#, .error(code: -32600)),
            (#"{"jsonrpc":"2.0","id":2,"result":{}}"#, .idMismatch),
            (#"{"jsonrpc":"2.0","id":"x","result":{"protocolVersion":"1"}}"#, .idMismatch),
            (#"{"id":1,"result":{}}"#, .notJSONRPC),
            ("<html>oops</html>", .notJSONRPC),
            ("", .notJSONRPC),
            ("[1,2]", .notJSONRPC),
        ]
        for (text, expected) in table { XCTAssertEqual(JSONRPCReply.parse(Array(text.utf8)), expected, text) }
    }

    /// Any JSON-RPC response ends the wait for an answer (a wrong id is reported, not waited past);
    /// server requests and notifications do not.
    func testIsResponseTellsResponsesFromServerRequests() {
        XCTAssertTrue(JSONRPCReply.isResponse(#"{"jsonrpc":"2.0","id":1,"result":{}}"#))
        XCTAssertTrue(JSONRPCReply.isResponse(#"{"jsonrpc":"2.0","id":null,"error":{"code":1}}"#))
        XCTAssertTrue(JSONRPCReply.isResponse(#"{"jsonrpc":"2.0","id":7,"result":{}}"#))
        XCTAssertFalse(JSONRPCReply.isResponse(#"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#))
        XCTAssertFalse(JSONRPCReply.isResponse(#"{"jsonrpc":"2.0","method":"notifications/message"}"#))
        XCTAssertFalse(JSONRPCReply.isResponse("not json"))
    }

    /// Found by Tests/Fuzz (jsonrpc): ids 1.51 and `true` were taken for our request id 1.
    func testOnlyOurIDIsOurs() {
        let result = #""result":{"protocolVersion":"v","capabilities":{},"serverInfo":{"name":"x"}}"#
        for id in ["1.51", "true", "18446744073709551617", #""01""#] {
            let reply = #"{"jsonrpc":"2.0","id":\#(id),\#(result)}"#
            XCTAssertEqual(JSONRPCReply.parse(Array(reply.utf8)), .idMismatch, id)
        }
        for id in ["1", "1.0", #""1""#] {
            let reply = #"{"jsonrpc":"2.0","id":\#(id),\#(result)}"#
            XCTAssertNotEqual(JSONRPCReply.parse(Array(reply.utf8)), .idMismatch, id)
        }
    }
}

final class BearerChallengeTests: XCTestCase {
    func testBearerChallenge() {
        let c = BearerChallenge.parse(#"Bearer error="invalid_token", error_description="Authentication required", resource_metadata="http://127.0.0.1:8705/.well-known/oauth-protected-resource/mcp""#)
        XCTAssertTrue(c.isBearer)
        XCTAssertEqual(c.error, "invalid_token")
        XCTAssertEqual(c.resourceMetadata, "http://127.0.0.1:8705/.well-known/oauth-protected-resource/mcp")
        XCTAssertEqual(BearerChallenge.parse(#"Basic realm="x", Bearer scope="a b""#).scope, "a b")
        XCTAssertEqual(BearerChallenge.parse(#"bearer realm="a\"b""#).parameters["realm"], "a\"b")
        XCTAssertTrue(BearerChallenge.parse("Bearer").isBearer)
        XCTAssertFalse(BearerChallenge.parse(#"Basic realm="x""#).isBearer)
        XCTAssertEqual(BearerChallenge.parse("Bearer error=invalid_token").error, "invalid_token")
    }
}

/// What a 2026-07-28 request carries besides its body's method: the `_meta` envelope merged into
/// our params, and the routing headers (`Mcp-Name` encoded as mcp 2.3's `encode_header_value`).
final class ModernEraRequestTests: XCTestCase {
    /// One `_meta` per message: the envelope's keys and the trace context side by side, the
    /// message's own params kept.
    func testEnvelopeAndTraceContextShareOneMeta() throws {
        let trace = SpanContext(traceID: .random(), spanID: .random(), traceFlags: .sampled, traceState: "k=v")
        let messages: [(MCPMessage, Int)] = [
            (MCPMessage(method: "tools/list", id: 2), 0),
            (.toolCall(id: 3, tool: "echo", argumentsJSON: #"{"text":"hi"}"#), 2),
            (ServerDiscover.message(clientVersion: "1.0"), 0),
        ]
        for (var message, ownParams) in messages {
            message.meta = ServerDiscover.envelope(clientVersion: "1.0")
            let body = message.body(trace: trace)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], message.method)
            let params = try XCTUnwrap(object["params"] as? [String: Any], message.method)
            XCTAssertEqual(params.count, ownParams + 1, message.method)
            let meta = try XCTUnwrap(params["_meta"] as? [String: Any], message.method)
            XCTAssertEqual(meta["io.modelcontextprotocol/protocolVersion"] as? String, "2026-07-28")
            XCTAssertEqual(meta["traceparent"] as? String, W3CTraceContext.traceparent(trace))
            XCTAssertEqual(meta["tracestate"] as? String, "k=v")
        }
        let notification = MCPMessage(method: "notifications/initialized", id: nil)
        XCTAssertEqual(String(decoding: notification.body(trace: nil), as: UTF8.self), #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    }

    func testMcpNameIsEncodedAsTheSDKDecodesIt() {
        let expected = ["echo": "echo", "a b": "a b", "écho": "=?base64?w6ljaG8=?=", " echo": "=?base64?IGVjaG8=?=",
                        "=?base64?x?=": "=?base64?PT9iYXNlNjQ/eD89?="]
        for (name, value) in expected {
            XCTAssertEqual(ModernEra.headers(method: "tools/call", name: name).map { "\($0.0): \($0.1)" },
                           ["Mcp-Method: tools/call", "Mcp-Name: \(value)"], name)
        }
        XCTAssertEqual(ModernEra.headers(method: "tools/list").map(\.0), ["Mcp-Method"])
    }
}
