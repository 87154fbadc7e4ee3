import XCTest
@testable import ProbeLogic

final class RedirectTargetTests: XCTestCase {
    /// A 307/308 is followed once when it stays on the origin; a host differs in case only is the same host.
    func testSameOriginRedirect() {
        let from = "http://localhost:8000/mcp"
        let table: [(String?, String?, UInt)] = [
            ("/mcp/", "http://localhost:8000/mcp/", #line),
            ("mcp/", "http://localhost:8000/mcp/", #line),
            ("http://localhost:8000/mcp/", "http://localhost:8000/mcp/", #line),
            ("http://LOCALHOST:8000/mcp/", "http://LOCALHOST:8000/mcp/", #line),
            ("http://localhost:8001/mcp/", nil, #line),
            ("https://localhost:8000/mcp/", nil, #line),
            ("//other:8000/mcp/", nil, #line),
            ("http://localhost:8000/a b", "http://localhost:8000/a%20b", #line),
            (nil, nil, #line),
        ]
        for (location, expected, line) in table {
            XCTAssertEqual(StreamableHTTPProbe.sameOriginRedirect(location, from: from), expected, location ?? "nil", line: line)
        }
        XCTAssertEqual(StreamableHTTPProbe.sameOriginRedirect("/mcp/", from: "http://h/mcp"), "http://h/mcp/")
        XCTAssertEqual(StreamableHTTPProbe.sameOriginRedirect("http://h:80/mcp/", from: "http://h/mcp"), "http://h:80/mcp/")
    }
}
