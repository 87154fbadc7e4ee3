import OTLPExporter
import XCTest
@testable import ProbeAgent

/// `exporter.spool` in the file, `PROBE_AGENT_SPOOL_*` in the environment, and which wins.
final class SpoolConfigTests: XCTestCase {
    func yaml(_ spool: String) -> String {
        """
        exporter:
          endpoint: http://collector:4318
          spool: \(spool)
        targets:
          - name: a
            url: http://127.0.0.1:1/mcp
        """
    }

    func testTheFileSpoolWithDefaultsAndUnits() throws {
        let config = try ConfigFixture.parse(yaml("{dir: spool}"), baseDirectory: "/etc/probe-agent")
        XCTAssertEqual(config.exporter?.spool, SpoolSettings(dir: "/etc/probe-agent/spool"))
        let (resolved, warnings) = SpoolSettings.resolve(config.exporter?.spool, environment: [:])
        XCTAssertEqual(resolved, SpoolConfig(directory: "/etc/probe-agent/spool", maxBytes: 256 << 20, fsync: .batch))
        XCTAssertEqual(warnings, [])
        let sized = try ConfigFixture.parse(yaml("{dir: /var/lib/probe-agent/spool, max_bytes: 1GiB, fsync: never}"))
        XCTAssertEqual(sized.exporter?.spool, SpoolSettings(dir: "/var/lib/probe-agent/spool", maxBytes: 1 << 30, fsync: .never))
        let plain = try ConfigFixture.parse(yaml("{dir: /s, max_bytes: 1048576}"))
        XCTAssertEqual(plain.exporter?.spool?.maxBytes, 1 << 20)
    }

    func testTheFileWinsOverTheEnvironmentFieldByField() {
        let env = ["PROBE_AGENT_SPOOL_DIR": "/env/spool", "PROBE_AGENT_SPOOL_MAX_BYTES": "64MiB", "PROBE_AGENT_SPOOL_FSYNC": "never"]
        XCTAssertEqual(SpoolSettings.resolve(nil, environment: env).0,
                       SpoolConfig(directory: "/env/spool", maxBytes: 64 << 20, fsync: .never))
        XCTAssertEqual(SpoolSettings.resolve(SpoolSettings(dir: "/file/spool", fsync: .batch), environment: env).0,
                       SpoolConfig(directory: "/file/spool", maxBytes: 64 << 20, fsync: .batch))
        XCTAssertNil(SpoolSettings.resolve(nil, environment: [:]).0, "no spool unless asked for")
    }

    func testBadValuesAreClearErrors() {
        let errors = ConfigFixture.errors(yaml("{max_bytes: 12 parsecs, fsync: always, size: 3}"))
        XCTAssertTrue(errors.contains { $0.contains("exporter.spool.dir") && $0.contains("required") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("exporter.spool.max_bytes") && $0.contains("12 parsecs") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("exporter.spool.fsync") && $0.contains("batch, never") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("size") }, "\(errors)")
        XCTAssertTrue(ConfigFixture.errors(yaml("{dir: /s, max_bytes: 1KiB}")).contains { $0.contains("at least 64KiB") })
    }
}
