import CZlib

public struct GzipError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

/// Real gzip streams (RFC 1952 header and trailer: zlib windowBits 15 + 16), not raw zlib.
public enum Gzip {
    /// Level 1 trades a little ratio for several times the speed of the default 6; telemetry
    /// compresses well either way.
    public static func compress(_ input: [UInt8], level: Int32 = 1) throws -> [UInt8] {
        try GzipCompressor(level: level).compress(input)
    }

    /// Inflates gzip (or zlib) data, refusing more than `limit` bytes of output.
    public static func decompress(_ input: [UInt8], limit: Int = 64 << 20) throws -> [UInt8] {
        var stream = z_stream()
        guard pa_inflateInit2(&stream, 15 + 32) == Z_OK else { throw GzipError(description: "inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while status != Z_STREAM_END {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw GzipError(description: "inflate failed (\(status))")
                }
                output.append(contentsOf: chunk[0..<produced])
                guard output.count <= limit else { throw GzipError(description: "inflated data over \(limit) bytes") }
                if produced == 0, stream.avail_in == 0, status != Z_STREAM_END {
                    throw GzipError(description: "truncated gzip data")
                }
            }
        }
        return output
    }
}

/// A reusable deflate stream: keeps zlib's ~256 KiB of state between calls (deflateReset) instead
/// of allocating it per request. Not thread-safe; one per exporter, used under its export gate.
public final class GzipCompressor {
    private var stream = z_stream()
    private let ready: Bool

    public init(level: Int32 = 1) {
        ready = pa_deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK
    }

    deinit { if ready { deflateEnd(&stream) } }

    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        guard ready, deflateReset(&stream) == Z_OK else { throw GzipError(description: "deflate init failed") }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var status: Int32 = Z_OK
        let output = [UInt8](unsafeUninitializedCapacity: bound) { out, written in
            input.withUnsafeBufferPointer { inBuf in
                // zlib never writes through next_in; the cast only satisfies its C signature.
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(out.count)
                status = deflate(&stream, Z_FINISH)
            }
            written = status == Z_STREAM_END ? Int(stream.total_out) : 0
        }
        stream.next_in = nil
        stream.next_out = nil
        guard status == Z_STREAM_END else { throw GzipError(description: "deflate failed (\(status))") }
        return output
    }
}
