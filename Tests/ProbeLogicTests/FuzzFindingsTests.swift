import XCTest
import HTTPClient

/// Inputs the fuzz targets (Tests/Fuzz, docs/fuzzing.md) found, kept as regression tests.
final class FuzzFindingsTests: XCTestCase {
    /// redaction target: a secret in a fragment or behind a percent-encoded parameter name survived.
    func testRedactedURLsKeepNoSecret() {
        let urls = ["http://127.0.0.1#token=SECRET", "https://h/mcp#state=x&id_token=SECRET", "https://h/#SECRET",
                    "http://h:31500?t%6fk%65n=SECRET", "https://h/?%61%70I_KEY=SECRET", "https://h/p?X-Am%7A-si%67NATURE=SECRET",
                    // a `://` in the query of a URL without a scheme was taken for the scheme's end (CI's smoke pass)
                    "mcp.internal:30000/?%c/&ACcessToken=SECRET&::::::&:::://"]
        for url in urls {
            XCTAssertFalse(HTTPURL.redact(url).contains("SECRET"), "\(url) -> \(HTTPURL.redact(url))")
        }
    }
}
