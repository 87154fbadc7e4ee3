import XCTest
@testable import HTTPClient

final class HTTPURLTests: XCTestCase {
    func testParts() throws {
        let url = try XCTUnwrap(HTTPURL("HTTPS://user:pw@Example.COM:8443/a/b;c?x=1&y#frag"))
        XCTAssertEqual(url.scheme, "https")
        XCTAssertEqual(url.userinfo, "user:pw")
        XCTAssertEqual(url.host, "Example.COM")
        XCTAssertEqual(url.port, 8443)
        XCTAssertEqual(url.hostAndPort, "Example.COM:8443")
        XCTAssertEqual(url.path, "/a/b;c")
        XCTAssertEqual(url.query, "x=1&y")
        XCTAssertEqual(url.fragment, "frag")
        XCTAssertEqual(url.pathAndQuery, "/a/b;c?x=1&y")

        let bare = try XCTUnwrap(HTTPURL("http://h"))
        XCTAssertEqual([bare.path, bare.query, bare.fragment, bare.userinfo], ["", nil, nil, nil])
        XCTAssertEqual(bare.pathAndQuery, "/")
        XCTAssertEqual(HTTPURL("http://h?q")?.pathAndQuery, "/?q")
        XCTAssertEqual(HTTPURL("http://h/?")?.query, "")
        XCTAssertEqual(HTTPURL("http://h#")?.fragment, "")
    }

    func testHostAndPort() {
        let table: [(String, String, Int, UInt)] = [
            ("http://127.0.0.1:8701/mcp", "127.0.0.1", 8701, #line),
            ("http://h", "h", 80, #line),
            ("https://h", "h", 443, #line),
            ("https://u:p@example.com/mcp", "example.com", 443, #line),
            ("http://h:/x", "h", 80, #line),  // RFC 3986 §3.2.3: an empty port is the default one
            ("http://h:080/", "h", 80, #line),
            ("http://[::1]:9/x", "::1", 9, #line),
            ("https://[::1]/x", "::1", 443, #line),
            ("http://[fe80::1%25eth0]:80/", "fe80::1%25eth0", 80, #line),
            ("http://a@b@h/", "h", 80, #line),  // the last `@` ends the userinfo, as the redaction reads it
            ("http://h?x=http://other:1/", "h", 80, #line),
        ]
        for (text, host, port, line) in table {
            let url = HTTPURL(text)
            XCTAssertEqual(url?.host, host, text, line: line)
            XCTAssertEqual(url?.port, port, text, line: line)
        }
    }

    func testOrigin() {
        let table: [(String, String, UInt)] = [
            ("http://127.0.0.1:8701/mcp", "http://127.0.0.1:8701", #line),
            ("HTTP://Example.COM", "http://example.com:80", #line),
            ("https://user:pw@example.com/mcp?x#y", "https://example.com:443", #line),
            ("https://example.com:443/", "https://example.com:443", #line),
            ("http://[::1]:9/x", "http://[::1]:9", #line),
            ("http://[FE80::1]/", "http://[fe80::1]:80", #line),
        ]
        for (text, origin, line) in table { XCTAssertEqual(HTTPURL(text)?.origin, origin, text, line: line) }
        XCTAssertEqual(HTTPURL("http://h/a")?.origin, HTTPURL("http://H:80/b")?.origin)
        XCTAssertNotEqual(HTTPURL("http://h/")?.origin, HTTPURL("https://h/")?.origin)
    }

    func testRefusedWithTheReason() {
        let table: [(String, HTTPURL.Problem, UInt)] = [
            ("ftp://example.com", .scheme("ftp"), #line),
            ("GOPHER://user:pa55@collector", .scheme("gopher"), #line),
            ("example.com/mcp", .notAbsolute, #line),
            ("collector:4318", .notAbsolute, #line),
            ("mailto:a@b", .notAbsolute, #line),
            ("1http://h/", .notAbsolute, #line),
            ("h/x?u=http://h", .notAbsolute, #line),
            ("", .notAbsolute, #line),
            ("http://", .noHost, #line),
            ("http://:80/x", .noHost, #line),
            ("http://user@/x", .noHost, #line),
            ("http://[::1/x", .noHost, #line),
            ("http://[]/x", .noHost, #line),
            ("http://h:99999/x", .invalidPort, #line),
            ("http://h:0/", .invalidPort, #line),
            ("http://h:+80/", .invalidPort, #line),
            ("http://h:43a8", .invalidPort, #line),
            ("http://a:b:80/", .invalidPort, #line),
            ("http://[::1]x/", .invalidPort, #line),
            ("http://h/a b", .spaceOrControl, #line),
            ("http://h/\t", .spaceOrControl, #line),
            ("http://h/\u{7F}", .spaceOrControl, #line),
            ("http://h/\u{2028}", .spaceOrControl, #line),
            ("http://user:s3cret#1@collector:4318", .hashInUserinfo, #line),
            ("http://s3cret#1@collector/x", .hashInUserinfo, #line),
            ("http://h#x@y/z", .hashInUserinfo, #line),
        ]
        for (text, problem, line) in table {
            XCTAssertThrowsError(try HTTPURL(parsing: text), text, line: line) { error in
                XCTAssertEqual(error as? HTTPURL.Problem, problem, text, line: line)
            }
            XCTAssertNil(HTTPURL(text), text, line: line)
        }
        // A `#` with no `@` after it before the path is a fragment, as usual.
        XCTAssertEqual(HTTPURL("http://h/p#x@y")?.fragment, "x@y")
        XCTAssertEqual(HTTPURL("http://h#frag")?.host, "h")
    }

    /// Every query value is redacted unless its (percent-decoded) name is on the allowlist; the
    /// fragment is dropped; userinfo is replaced.
    func testRedactionByRule() {
        for (input, expected, line) in Self.redactionTable { XCTAssertEqual(HTTPURL.redact(input), expected, input, line: line) }
    }

    /// A parsed URL shows as the rule shows its text, also when interpolated.
    func testParsedURLIsShownByTheSameRule() {
        var parsed = 0
        for (input, expected, line) in Self.redactionTable {
            guard let url = HTTPURL(input) else { continue }
            parsed += 1
            XCTAssertEqual(url.redacted, expected, input, line: line)
            XCTAssertEqual("\(url)", expected, input, line: line)
        }
        XCTAssertGreaterThan(parsed, 15)
    }

    static let redactionTable: [(String, String, UInt)] = [
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
        ("http://[::1]:8701/mcp?token=t", "http://[::1]:8701/mcp?token=REDACTED", #line),
        ("HTTP://u@H:1/?Version=2&x", "HTTP://REDACTED:REDACTED@H:1/?Version=2&REDACTED", #line),
        ("mcp.example.com/mcp?token=t#f", "mcp.example.com/mcp?token=REDACTED", #line),
    ]

    /// RFC 3986 §5.4.1 and §5.4.2, base `http://a/b/c/d;p?q`; `g:h` is not an http(s) URL.
    func testResolveRFC3986Examples() throws {
        let base = try XCTUnwrap(HTTPURL("http://a/b/c/d;p?q"))
        let table: [(String, String?, UInt)] = [
            ("g:h", nil, #line),
            ("g", "http://a/b/c/g", #line), ("./g", "http://a/b/c/g", #line), ("g/", "http://a/b/c/g/", #line),
            ("/g", "http://a/g", #line), ("//g", "http://g", #line), ("?y", "http://a/b/c/d;p?y", #line),
            ("g?y", "http://a/b/c/g?y", #line), ("#s", "http://a/b/c/d;p?q#s", #line), ("g#s", "http://a/b/c/g#s", #line),
            ("g?y#s", "http://a/b/c/g?y#s", #line), (";x", "http://a/b/c/;x", #line), ("g;x", "http://a/b/c/g;x", #line),
            ("g;x?y#s", "http://a/b/c/g;x?y#s", #line), ("", "http://a/b/c/d;p?q", #line), (".", "http://a/b/c/", #line),
            ("./", "http://a/b/c/", #line), ("..", "http://a/b/", #line), ("../", "http://a/b/", #line),
            ("../g", "http://a/b/g", #line), ("../..", "http://a/", #line), ("../../", "http://a/", #line),
            ("../../g", "http://a/g", #line),
            // abnormal examples
            ("../../../g", "http://a/g", #line), ("../../../../g", "http://a/g", #line), ("/./g", "http://a/g", #line),
            ("/../g", "http://a/g", #line), ("g.", "http://a/b/c/g.", #line), (".g", "http://a/b/c/.g", #line),
            ("g..", "http://a/b/c/g..", #line), ("..g", "http://a/b/c/..g", #line), ("./../g", "http://a/b/g", #line),
            ("./g/.", "http://a/b/c/g/", #line), ("g/./h", "http://a/b/c/g/h", #line), ("g/../h", "http://a/b/c/h", #line),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y", #line), ("g;x=1/../y", "http://a/b/c/y", #line),
            ("g?y/./x", "http://a/b/c/g?y/./x", #line), ("g?y/../x", "http://a/b/c/g?y/../x", #line),
            ("g#s/./x", "http://a/b/c/g#s/./x", #line), ("g#s/../x", "http://a/b/c/g#s/../x", #line),
            ("http:g", nil, #line),  // strict parsers: a scheme of its own, and no authority
        ]
        for (reference, expected, line) in table {
            XCTAssertEqual(base.resolve(reference)?.text, expected, reference, line: line)
        }
    }

    /// Beyond RFC 3986's examples (the probers' own tables are in LegacySSEProbeTests and
    /// RedirectTargetTests): the base's userinfo stays, what a URL cannot hold is percent-encoded,
    /// a result that is not an http(s) URL is nil.
    func testResolveDetails() throws {
        let sse = try XCTUnwrap(HTTPURL("http://127.0.0.1:8000/mount/sse"))
        XCTAssertEqual(sse.resolve("/a b")?.text, "http://127.0.0.1:8000/a%20b")
        XCTAssertEqual(sse.resolve("/a\tb/\u{E9}")?.text, "http://127.0.0.1:8000/a%09b/%C3%A9")
        XCTAssertNil(sse.resolve("ftp://127.0.0.1/m"))
        XCTAssertNil(sse.resolve("http://u#x@h/"))
        XCTAssertEqual(HTTPURL("https://u:p@h.example/mcp")?.resolve("/mcp/")?.text, "https://u:p@h.example/mcp/")
        XCTAssertEqual(HTTPURL("http://h")?.resolve("g")?.text, "http://h/g")
        XCTAssertEqual(HTTPURL("http://h")?.resolve("?q")?.text, "http://h?q")
    }

    /// libcurl, which sends the request, refuses some URLs the generic syntax allows.
    func testLibcurlsReading() {
        XCTAssertEqual(HTTPURL("http://127.0.0.1:8000/mcp")?.isReadByLibcurl, true)
        XCTAssertEqual(HTTPURL("https://[::1]/x?y#z")?.isReadByLibcurl, true)
        XCTAssertEqual(HTTPURL("http://a@b@h/")?.isReadByLibcurl, false)
        XCTAssertEqual(HTTPURL("http://h\\x/")?.isReadByLibcurl, false)
        XCTAssertEqual(HTTPURL.libcurlParts("/next", relativeTo: "http://x.invalid/a")?.host, "x.invalid")
    }
}
