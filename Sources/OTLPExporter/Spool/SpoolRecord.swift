import CZlib
import Foundation

/// One export request as the spool keeps it: the body exactly as it would go on the wire (already
/// encoded and compressed) and what is needed to send it again later.
package struct SpoolRecord: Sendable, Equatable {
    package var signal: OTLPSignal
    /// Spans or metric data points in the request, for the counters.
    package var itemCount: Int
    /// When the request was first given to the spool (wall time, for the oldest-record age).
    package var createdAt: Date
    package var contentType: String
    /// nil: not compressed.
    package var contentEncoding: String?
    package var body: [UInt8]

    package init(signal: OTLPSignal, itemCount: Int, createdAt: Date, contentType: String, contentEncoding: String?,
                body: [UInt8]) {
        self.signal = signal
        self.itemCount = itemCount
        self.createdAt = createdAt
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.body = body
    }
}

/// The on-disk framing of a record, little-endian:
///
/// ```
/// magic "PASP" (4) · payload length (4) · CRC-32 of the payload (4) · payload:
///   version 1 (1) · signal 0 traces / 1 metrics (1) · content-type length (1) ·
///   content-encoding length (1) · item count (4) · created, unix ms (8) ·
///   content-type · content-encoding · body
/// ```
///
/// The length bounds the record, the checksum proves it whole; the magic lets a reader find the
/// next record after a damaged one.
enum SpoolFrame {
    static let magic: [UInt8] = Array("PASP".utf8)
    static let headerBytes = 12
    static let fixedPayloadBytes = 16
    static let version: UInt8 = 1
    /// Larger than any request the exporter sends (64 MiB cap + headers).
    static let maxPayloadBytes = (64 << 20) + 1024

    /// What the index keeps of a record: everything but the body.
    struct Summary: Equatable {
        var signal: OTLPSignal
        var itemCount: Int
        var createdAt: Date
    }

    static func encode(_ record: SpoolRecord) -> [UInt8] {
        let contentType = Array(record.contentType.utf8.prefix(255))
        let contentEncoding = Array((record.contentEncoding ?? "").utf8.prefix(255))
        let payloadLength = fixedPayloadBytes + contentType.count + contentEncoding.count + record.body.count
        var frame: [UInt8] = []
        frame.reserveCapacity(headerBytes + payloadLength)
        frame += magic
        append(UInt32(payloadLength), to: &frame)
        append(UInt32(0), to: &frame)  // checksum, filled in below
        frame.append(version)
        frame.append(record.signal == .traces ? 0 : 1)
        frame.append(UInt8(contentType.count))
        frame.append(UInt8(contentEncoding.count))
        append(UInt32(clamping: record.itemCount), to: &frame)
        append(UInt64(max(0, record.createdAt.timeIntervalSince1970 * 1000).rounded()), to: &frame)
        frame += contentType
        frame += contentEncoding
        frame += record.body
        let crc = checksum(frame[headerBytes...])
        frame.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: 8, as: UInt32.self) }
        return frame
    }

    /// The record in `frame` (one whole frame), or nil when it does not check out.
    static func decode(_ frame: ArraySlice<UInt8>) -> SpoolRecord? {
        guard let (summary, length) = summary(frame, at: frame.startIndex), length == frame.count else { return nil }
        let payload = frame.startIndex + headerBytes
        let typeLength = Int(frame[payload + 2]), encodingLength = Int(frame[payload + 3])
        let typeStart = payload + fixedPayloadBytes
        let bodyStart = typeStart + typeLength + encodingLength
        let contentType = String(decoding: frame[typeStart..<(typeStart + typeLength)], as: UTF8.self)
        let encoding = String(decoding: frame[(typeStart + typeLength)..<bodyStart], as: UTF8.self)
        return SpoolRecord(signal: summary.signal, itemCount: summary.itemCount, createdAt: summary.createdAt,
                           contentType: contentType, contentEncoding: encoding.isEmpty ? nil : encoding,
                           body: Array(frame[bodyStart...]))
    }

    /// The record starting at `offset` and its whole frame length, when a valid one starts there.
    static func summary(_ bytes: ArraySlice<UInt8>, at offset: Int) -> (Summary, frameLength: Int)? {
        guard bytes.endIndex - offset >= headerBytes, bytes[offset..<(offset + 4)].elementsEqual(magic) else { return nil }
        let length = Int(read(UInt32.self, bytes, offset + 4))
        guard length >= fixedPayloadBytes, length <= maxPayloadBytes, bytes.endIndex - offset - headerBytes >= length else {
            return nil
        }
        let payload = offset + headerBytes
        guard checksum(bytes[payload..<(payload + length)]) == read(UInt32.self, bytes, offset + 8),
              bytes[payload] == version, bytes[payload + 1] <= 1,
              fixedPayloadBytes + Int(bytes[payload + 2]) + Int(bytes[payload + 3]) <= length else { return nil }
        let createdMs = read(UInt64.self, bytes, payload + 8)
        let summary = Summary(signal: bytes[payload + 1] == 0 ? .traces : .metrics,
                              itemCount: Int(read(UInt32.self, bytes, payload + 4)),
                              createdAt: Date(timeIntervalSince1970: Double(min(createdMs, 1 << 52)) / 1000))
        return (summary, headerBytes + length)
    }

    /// The valid records of a segment's bytes with their offsets, and how many damaged stretches
    /// (a bad checksum, a torn tail, garbage) were skipped to find them.
    static func scan(_ bytes: [UInt8]) -> (records: [(offset: Int, length: Int, summary: Summary)], damaged: Int) {
        var records: [(offset: Int, length: Int, summary: Summary)] = []
        var damaged = 0
        var offset = 0
        var inDamage = false
        let all = bytes[...]
        while offset < bytes.count {
            if let (summary, length) = summary(all, at: offset) {
                records.append((offset, length, summary))
                offset += length
                inDamage = false
                continue
            }
            if !inDamage { damaged += 1 }
            inDamage = true
            offset = nextMagic(in: all, after: offset) ?? bytes.count
        }
        return (records, damaged)
    }

    private static func nextMagic(in bytes: ArraySlice<UInt8>, after offset: Int) -> Int? {
        var i = offset + 1
        while i + magic.count <= bytes.endIndex {
            if bytes[i] == magic[0], bytes[(i + 1)..<(i + 4)].elementsEqual(magic[1...]) { return i }
            i += 1
        }
        return nil
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { raw in
            var crc = crc32(0, nil, 0)
            var done = 0
            while done < raw.count {  // crc32 takes a uInt length
                let chunk = min(raw.count - done, 1 << 30)
                crc = crc32(crc, raw.baseAddress!.advanced(by: done).assumingMemoryBound(to: Bytef.self), uInt(chunk))
                done += chunk
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: ArraySlice<UInt8>, _ offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}
