import XCTest
@testable import ProbeAgent

final class ConfigShardTests: XCTestCase {
    func testParse() {
        let table: [(String, Shard?)] = [
            ("0/1", Shard(index: 0, count: 1)), ("0/3", Shard(index: 0, count: 3)), ("2/3", Shard(index: 2, count: 3)),
            (" 1/2 ", Shard(index: 1, count: 2)), ("3/3", nil), ("4/3", nil), ("-1/3", nil), ("+1/3", nil), ("0/0", nil),
            ("1", nil), ("1/", nil), ("/3", nil), ("a/b", nil), ("0/3/1", nil), ("", nil), ("1 /3", nil),
        ]
        for (text, expected) in table {
            XCTAssertEqual(Shard.parse(text), expected, text)
        }
    }

    func testEveryNameHasExactlyOneOwner() {
        let names = (0..<1000).map { "target-\($0)" }
        for count in 1...7 {
            let shards = (0..<count).map { Shard(index: $0, count: count) }
            var perShard = [Int](repeating: 0, count: count)
            for name in names {
                let owners = shards.filter { $0.owns(name) }
                XCTAssertEqual(owners.count, 1, "\(name) among \(count)")
                if let owner = owners.first { perShard[owner.index] += 1 }
            }
            // A usable spread: no shard gets less than half its fair share.
            XCTAssertGreaterThan(perShard.min() ?? 0, 1000 / count / 2, "\(count) shards: \(perShard)")
        }
    }

    /// Fixed values (checked against an independent FNV-1a implementation): replicas and restarts
    /// must agree on who owns what, so the hash may never change.
    func testOwnershipIsStable() {
        XCTAssertEqual(Shard.fnv1a64(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(Shard.fnv1a64("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(Shard.fnv1a64("foobar"), 0x8594_4171_f739_67e8)
        let known: [(String, Int, Int)] = [
            ("payments-mcp", 2, 0), ("status-page", 0, 3), ("search-mcp", 0, 2), ("legacy-tools", 2, 2), ("demo-json", 1, 1),
        ]
        for (name, ofThree, ofFive) in known {
            XCTAssertEqual(Shard.owner(of: name, count: 3), ofThree, name)
            XCTAssertEqual(Shard.owner(of: name, count: 5), ofFive, name)
            XCTAssertTrue(Shard(index: ofThree, count: 3).owns(name))
        }
    }

    func testFlagBeatsEnvironmentBeatsFile() throws {
        let file = Shard(index: 0, count: 2)
        XCTAssertEqual(try Shard.effective(flag: nil, environment: [:], configured: file), file)
        XCTAssertEqual(try Shard.effective(flag: nil, environment: ["PROBE_AGENT_SHARD": "1/2"], configured: file), Shard(index: 1, count: 2))
        XCTAssertEqual(try Shard.effective(flag: "2/3", environment: ["PROBE_AGENT_SHARD": "1/2"], configured: file), Shard(index: 2, count: 3))
        XCTAssertThrowsError(try Shard.effective(flag: "3/3", environment: [:], configured: nil))
        XCTAssertThrowsError(try Shard.effective(flag: nil, environment: ["PROBE_AGENT_SHARD": "x"], configured: nil))
    }
}
