import XCTest
@testable import ProbeAgent

/// Inputs the fuzz targets (Tests/Fuzz, docs/fuzzing.md) found, kept as regression tests.
final class ConfigFuzzFindingsTests: XCTestCase {
    /// config target: a URL that fails validation was quoted after `${…}` interpolation, secret included.
    func testAnInvalidURLIsNotQuotedWithItsSecret() {
        let errors = ConfigFixture.errors("targets:\n  - name: a\n    url: http://h:x/${TOKEN}/mcp\n",
                                          env: ["TOKEN": "envSecret"])
        XCTAssertFalse(errors.isEmpty)
        XCTAssertFalse(errors.joined().contains("envSecret"), errors.joined(separator: "\n"))
        let endpoint = ConfigFixture.errors("exporter:\n  endpoint: http:/${TOKEN}/127.0.0.1:4318\ntargets: []\n",
                                            env: ["TOKEN": "envSecret"])
        XCTAssertFalse(endpoint.joined().contains("envSecret"), endpoint.joined(separator: "\n"))
    }
}
