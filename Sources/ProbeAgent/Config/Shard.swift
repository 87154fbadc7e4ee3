import Foundation
import ArgumentParser

/// Replica `index` of `count`: owns the targets whose name hashes to it. The hash is FNV-1a 64 of
/// the name's UTF-8 bytes, so every replica (and every restart) agrees without coordination;
/// Swift's `Hasher` is seeded per process and would not.
struct Shard: Equatable, CustomStringConvertible {
    var index: Int
    var count: Int

    /// More replicas than this is a typo, and `validate` counts targets per shard.
    static let maxCount = 1000
    static let expected = "i/n with 0 <= i < n <= \(maxCount), e.g. 0/3"

    /// `"i/n"` with 0 <= i < n <= `maxCount`.
    static func parse(_ text: String) -> Shard? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let index = Int(parts[0]), let count = Int(parts[1]),
              (1...maxCount).contains(count), index >= 0, index < count else { return nil }
        return Shard(index: index, count: count)
    }

    func owns(_ targetName: String) -> Bool {
        Shard.owner(of: targetName, count: count) == index
    }

    /// The shard index that owns `targetName` among `count` shards.
    static func owner(of targetName: String, count: Int) -> Int {
        Int(fnv1a64(targetName) % UInt64(count))
    }

    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    var description: String { "\(index)/\(count)" }

    /// The shard in effect: `--shard` wins over PROBE_AGENT_SHARD, which wins over the config file.
    static func effective(flag: String?, environment: [String: String], configured: Shard?) throws -> Shard? {
        if let flag {
            guard let shard = parse(flag) else { throw ValidationError("--shard \"\(flag)\" is not \(expected)") }
            return shard
        }
        if let text = environment["PROBE_AGENT_SHARD"], !text.isEmpty {
            guard let shard = parse(text) else {
                throw ValidationError("PROBE_AGENT_SHARD=\"\(text)\" is not \(expected)")
            }
            return shard
        }
        return configured
    }
}
