import HTTPClient
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

final class RedactionTests: XCTestCase {
    /// Every query value is redacted unless its (percent-decoded) name is on the allowlist; the
    /// fragment is dropped; userinfo is replaced.
    func testURLRedactionByRule() {
        let table: [(String, String, UInt)] = [
            ("https://user:pass@mcp.example.com/mcp", "https://REDACTED:REDACTED@mcp.example.com/mcp", #line),
            ("https://token@mcp.example.com:8443/x?version=1", "https://REDACTED:REDACTED@mcp.example.com:8443/x?version=1", #line),
            ("https://h/p?accessToken=abc", "https://h/p?accessToken=REDACTED", #line),
            ("https://h/p?api%5Fkey=k&API%5fKEY=k2", "https://h/p?api%5Fkey=REDACTED&API%5fKEY=REDACTED", #line),
            ("https://h/mcp#token=t", "https://h/mcp", #line),
            ("https://h/mcp?format=json#access_token=t", "https://h/mcp?format=json", #line),
            ("https://h/mcp#frag?token=t", "https://h/mcp", #line),
            ("https://user:p#ss@h/mcp?version=1", "https://REDACTED:REDACTED@h/mcp?version=1", #line),
            ("https://h/p?color=blue&sig=abc", "https://h/p?color=REDACTED&sig=REDACTED", #line),
            ("https://h/p?version=2&Format=json&verbose=1", "https://h/p?version=2&Format=json&verbose=1", #line),
            ("https://h/p?vers%69on=2", "https://h/p?vers%69on=2", #line),
            ("https://h/p?a=1&a=2&version=3&version=4", "https://h/p?a=REDACTED&a=REDACTED&version=3&version=4", #line),
            ("https://h/p?key=&version=", "https://h/p?key=&version=", #line),
            ("https://h/p?sk-live-123&verbose", "https://h/p?REDACTED&verbose", #line),
            ("https://h/p?&&key=v&", "https://h/p?&&key=REDACTED&", #line),
            ("https://h/p?version=1;token=abc", "https://h/p?version=1;token=REDACTED", #line),
            ("https://h/p?x=a=b", "https://h/p?x=REDACTED", #line),
            ("https://h/p?", "https://h/p?", #line),
            ("http://127.0.0.1:8701/mcp", "http://127.0.0.1:8701/mcp", #line),
            ("mcp.example.com/mcp?token=t#f", "mcp.example.com/mcp?token=REDACTED", #line),
        ]
        for (input, expected, line) in table { XCTAssertEqual(URLRedactor.redact(input), expected, input, line: line) }
    }

    func testAuthority() {
        let a = URLAuthority("http://127.0.0.1:8701/mcp")
        XCTAssertEqual([a?.scheme, a?.host, a?.port.description], ["http", "127.0.0.1", "8701"])
        XCTAssertEqual(URLAuthority("https://u:p@example.com/mcp")?.port, 443)
        XCTAssertEqual(URLAuthority("http://[::1]:9/x")?.host, "::1")
        XCTAssertEqual(URLAuthority("http://[::1]:9/x")?.origin, "http://[::1]:9")
        XCTAssertEqual(URLAuthority("HTTP://example.com")?.origin, "http://example.com:80")
        XCTAssertNil(URLAuthority("ftp://example.com"))
        XCTAssertNil(URLAuthority("example.com/mcp"))
        XCTAssertNil(URLAuthority("http://:80/x"))
        XCTAssertNil(URLAuthority("http://h:99999/x"))
    }

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
