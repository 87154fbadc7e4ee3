import Foundation
import Testing
@testable import OTLPExporter

/// The spool on real files: framing, restart, damage, bounds, an unusable directory.
@Suite struct SpoolTests {
    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
    }

    static func record(_ signal: OTLPSignal = .traces, items: Int = 1, bytes: Int = 100, tag: Int = 0) -> SpoolRecord {
        SpoolRecord(signal: signal, itemCount: items, createdAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(tag)),
                    contentType: "application/x-protobuf", contentEncoding: signal == .traces ? "gzip" : nil,
                    body: [UInt8](repeating: UInt8(tag), count: bytes))
    }

    static func segments(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
    }

    /// Takes every waiting record of `signal`, settling each as done; returns their tags.
    static func drain(_ spool: Spool, _ signal: OTLPSignal) -> [UInt8] {
        var tags: [UInt8] = []
        while let (record, ticket) = spool.oldest(signal) {
            tags.append(record.body.first ?? 255)
            spool.settle(ticket, done: true)
        }
        return tags
    }

    @Test func frameRoundTripsAndRefusesAnyChangedByte() {
        let record = Self.record(items: 7, bytes: 50, tag: 9)
        let frame = SpoolFrame.encode(record)
        #expect(SpoolFrame.decode(frame[...]) == record)
        for i in stride(from: 0, to: frame.count, by: 7) {
            var damaged = frame
            damaged[i] ^= 0x40
            #expect(SpoolFrame.decode(damaged[...]) == nil, "byte \(i)")
        }
    }

    @Test func recordsComeBackOldestFirstPerSignalAcrossARestart() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var spool = Spool(config: SpoolConfig(directory: dir))
        for tag in 1...3 { #expect(spool.append(Self.record(.traces, items: 10, tag: tag))) }
        for tag in 4...5 { #expect(spool.append(Self.record(.metrics, items: 2, tag: tag))) }
        #expect(spool.stats.records == [.traces: 3, .metrics: 2] && spool.stats.items == [.traces: 30, .metrics: 4])
        #expect(spool.stats.oldestRecord == Date(timeIntervalSince1970: 1_700_000_001))
        // The first trace record is sent and accepted; the second is tried and fails (stays).
        let (first, ticket) = try #require(spool.oldest(.traces))
        #expect(first == Self.record(.traces, items: 10, tag: 1))
        spool.settle(ticket, done: true)
        let (second, retry) = try #require(spool.oldest(.traces))
        #expect(second.body.first == 2)
        spool.settle(retry, done: false)
        spool.close()

        spool = Spool(config: SpoolConfig(directory: dir))
        #expect(spool.stats.records == [.traces: 2, .metrics: 2])
        #expect(Self.drain(spool, .traces) == [2, 3])
        #expect(spool.append(Self.record(.traces, tag: 6)))  // after the restart: a new segment
        #expect(Self.drain(spool, .traces) == [6])
        #expect(Self.drain(spool, .metrics) == [4, 5])
        #expect(spool.stats.records.isEmpty && spool.stats.bytes == 0 && spool.stats.oldestRecord == nil)
        #expect(Self.segments(dir).isEmpty, "settled segments are deleted")
        spool.close()
        spool = Spool(config: SpoolConfig(directory: dir))
        #expect(spool.oldest(.traces) == nil && spool.oldest(.metrics) == nil)
        spool.close()
    }

    @Test func aTornTailIsSkippedAndCountedAndTheRestReplayed() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var spool = Spool(config: SpoolConfig(directory: dir))
        for tag in 1...3 { spool.append(Self.record(tag: tag)) }
        spool.close()
        let segment = dir + "/" + (try #require(Self.segments(dir).last))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int)
        #expect(truncate(segment, off_t(size - 10)) == 0)  // the last record half written, as after kill -9

        spool = Spool(config: SpoolConfig(directory: dir))
        #expect(spool.stats.damaged == 1)
        #expect(spool.stats.records == [.traces: 2])
        #expect(spool.append(Self.record(tag: 4)))
        #expect(Self.drain(spool, .traces) == [1, 2, 4])
        spool.close()
    }

    @Test func aCorruptRecordIsSkippedAndTheOnesAfterItAreFound() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var spool = Spool(config: SpoolConfig(directory: dir))
        for tag in 1...4 { spool.append(Self.record(bytes: 200, tag: tag)) }
        spool.close()
        let path = dir + "/" + (try #require(Self.segments(dir).first))
        var bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        let frame = SpoolFrame.encode(Self.record(bytes: 200, tag: 1)).count
        bytes[frame + 100] ^= 0xFF           // a flipped bit in record 2's body
        bytes[2 * frame + 5] = 0xEE          // record 3's length field
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        spool = Spool(config: SpoolConfig(directory: dir))
        #expect(spool.stats.damaged == 1, "records 2 and 3 are one damaged stretch")
        #expect(Self.drain(spool, .traces) == [1, 4])
        spool.close()
    }

    @Test func garbageAndEmptySegmentFilesNeitherCrashNorStopTheSpool() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var garbage = [UInt8]((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        garbage.replaceSubrange(100..<104, with: Array("PASP".utf8))  // a false start of a record
        try Data(garbage).write(to: URL(fileURLWithPath: dir + "/00000000000000000001.seg"))
        try Data().write(to: URL(fileURLWithPath: dir + "/00000000000000000002.seg"))
        try Data("not a cursor".utf8).write(to: URL(fileURLWithPath: dir + "/cursor"))
        var spool = Spool(config: SpoolConfig(directory: dir))
        #expect(spool.stats.damaged == 1)
        #expect(spool.oldest(.traces) == nil)
        #expect(spool.append(Self.record(tag: 1)))
        spool.close()
        spool = Spool(config: SpoolConfig(directory: dir))
        #expect(Self.drain(spool, .traces) == [1])
        #expect(Self.segments(dir).isEmpty, "segments without a record to replay are deleted")
        spool.close()
    }

    @Test func maxBytesDropsTheOldestSegmentsAndCountsTheirItems() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let frame = SpoolFrame.encode(Self.record(bytes: 1000)).count
        let log = LogCapture()
        let spool = Spool(config: SpoolConfig(directory: dir, maxBytes: 10 * frame), diagnostics: log.sink,
                          segmentBytes: 2 * frame)
        for tag in 1...30 { #expect(spool.append(Self.record(items: 5, bytes: 1000, tag: tag))) }
        #expect(spool.stats.bytes <= 10 * frame)
        let kept = spool.stats.items[.traces] ?? 0
        #expect(kept >= 40 && kept <= 50)
        #expect(spool.stats.droppedFull == [.traces: 150 - kept], "every item is either kept or counted")
        let tags = Self.drain(spool, .traces)
        #expect(tags == Array(UInt8(31 - tags.count)...30), "the newest are kept, in order")
        #expect(log.lines.contains { $0.contains("reached max_bytes") })
        // A record larger than the whole spool is refused, not stored by dropping everything.
        #expect(!spool.append(Self.record(bytes: 11 * frame)))
        spool.close()
    }

    @Test func aRecordOutForReplayWhenItsSegmentIsDroppedIsCountedOnce() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let frame = SpoolFrame.encode(Self.record(bytes: 1000)).count
        let spool = Spool(config: SpoolConfig(directory: dir, maxBytes: 4 * frame), segmentBytes: frame)
        spool.append(Self.record(items: 3, bytes: 1000, tag: 1))
        let (_, ticket) = try #require(spool.oldest(.traces))
        for tag in 2...5 { spool.append(Self.record(items: 3, bytes: 1000, tag: tag)) }  // drops segment 1
        #expect(spool.stats.droppedFull.isEmpty, "not counted while it is out")
        spool.settle(ticket, done: false)  // the collector did not take it: now it is lost
        #expect(spool.stats.droppedFull == [.traces: 3])
        let (_, next) = try #require(spool.oldest(.traces))
        spool.append(Self.record(items: 3, bytes: 1000, tag: 6))  // drops segment 2, out again
        spool.settle(next, done: true)  // delivered after all: not a drop
        #expect(spool.stats.droppedFull == [.traces: 3])
        #expect(Self.drain(spool, .traces) == [3, 4, 5, 6])
        spool.close()
    }

    @Test func anUnusableDirectoryRefusesAppendsAndIsTriedAgainLater() throws {
        let parent = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        try Data("a file where the directory should be".utf8).write(to: URL(fileURLWithPath: parent))
        let log = LogCapture()
        let spool = Spool(config: SpoolConfig(directory: parent + "/spool"), diagnostics: log.sink,
                          retryInterval: .milliseconds(50))
        #expect(!spool.stats.writable)
        #expect(!spool.append(Self.record(tag: 1)))
        #expect(log.lines.count == 1 && log.lines[0].hasPrefix("warning: OTLP spool \(parent)/spool unusable"))
        try FileManager.default.removeItem(atPath: parent)
        #expect(!spool.append(Self.record(tag: 1)), "not before the retry interval")
        Thread.sleep(forTimeInterval: 0.06)
        #expect(spool.append(Self.record(tag: 2)))
        #expect(spool.stats.writable)
        #expect(log.lines.last == "notice: OTLP spool \(parent)/spool is writable again")
        #expect(Self.drain(spool, .traces) == [2])
        spool.close()
    }

    @Test func aFailingWriteTurnsTheSpoolUnwritableWithAWarningUntilItCanWriteAgain() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = LogCapture()
        // One record per segment, so every append creates a file.
        let spool = Spool(config: SpoolConfig(directory: dir), diagnostics: log.sink, segmentBytes: 1,
                          retryInterval: .milliseconds(50))
        #expect(spool.append(Self.record(tag: 1)))
        try FileManager.default.removeItem(atPath: dir)
        #expect(!spool.append(Self.record(tag: 2)))
        #expect(!spool.stats.writable && spool.stats.writeErrors == 1)
        #expect(log.lines.contains { $0.hasPrefix("warning: OTLP spool \(dir): cannot write (creating a segment: No such file") })
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        Thread.sleep(forTimeInterval: 0.06)
        #expect(spool.append(Self.record(tag: 3)))
        #expect(spool.stats.writable && spool.stats.writeErrors == 1)
        #expect(Self.drain(spool, .traces) == [3], "record 1's file went with the directory: damaged, skipped")
        #expect(spool.stats.damaged == 1)
        spool.close()
    }

    @Test func oneAgentPerDirectory() {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = Spool(config: SpoolConfig(directory: dir))
        let log = LogCapture()
        let second = Spool(config: SpoolConfig(directory: dir), diagnostics: log.sink)
        #expect(first.stats.writable && !second.stats.writable)
        #expect(log.text.contains("in use by another probe-agent"))
        #expect(!second.append(Self.record()))
        first.close()
        second.close()
    }

    @Test func configFromTheEnvironment() {
        #expect(SpoolConfig.fromEnvironment([:]).0 == nil)
        let (config, warnings) = SpoolConfig.fromEnvironment([
            "PROBE_AGENT_SPOOL_DIR": "/var/lib/probe-agent/spool", "PROBE_AGENT_SPOOL_MAX_BYTES": "1GiB",
            "PROBE_AGENT_SPOOL_FSYNC": "never",
        ])
        #expect(config == SpoolConfig(directory: "/var/lib/probe-agent/spool", maxBytes: 1 << 30, fsync: .never))
        #expect(warnings.isEmpty)
        let (fallback, problems) = SpoolConfig.fromEnvironment([
            "PROBE_AGENT_SPOOL_DIR": "/s", "PROBE_AGENT_SPOOL_MAX_BYTES": "12 parsecs", "PROBE_AGENT_SPOOL_FSYNC": "always",
        ])
        #expect(fallback == SpoolConfig(directory: "/s"))
        #expect(problems.count == 2)
        #expect(ByteSize.parse("256MiB") == 256 << 20 && ByteSize.parse("100MB") == 100_000_000
            && ByteSize.parse("4096") == 4096 && ByteSize.parse("1 Gi") == 1 << 30 && ByteSize.parse("-1") == nil
            && ByteSize.parse("99999999999999999999") == nil)
    }
}
