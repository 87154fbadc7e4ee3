import XCTest
@testable import ProbeAgent

/// Inputs the fuzz targets (Tests/Fuzz, docs/fuzzing.md) found, kept as regression tests.
final class ConfigFuzzFindingsTests: XCTestCase {
    /// config target: repeated keys that are mappings were reported at a different line per load
    /// (Yams picks the repeat from a dictionary); such keys are refused in document order.
    func testComplexKeysAreRefusedTheSameWayEveryTime() {
        let yaml = "targets: []\n? {a: 1}\n: x\n? [b]\n: y\n? {a: 1}\n: z\n"
        let first = ConfigFixture.errors(yaml)
        XCTAssertEqual(first, ["agent.yaml:2:3: a mapping key must be a single value, not a list, mapping or alias"])
        for _ in 0..<20 { XCTAssertEqual(ConfigFixture.errors(yaml), first) }
    }

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
