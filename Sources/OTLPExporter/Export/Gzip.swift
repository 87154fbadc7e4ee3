import CZlib

public struct GzipError: Error, Equatable, CustomStringConvertible {
    public let description: String
}

/// Real gzip streams (RFC 1952 header and trailer: zlib windowBits 15 + 16), not raw zlib.
public enum Gzip {
    /// Level 1 trades a little ratio for several times the speed of the default 6; telemetry
    /// compresses well either way.
    public static func compress(_ input: [UInt8], level: Int32 = 1) throws -> [UInt8] {
        var stream = z_stream()
        guard pa_deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            throw GzipError(description: "deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw GzipError(description: "deflate failed (\(status))") }
        output.removeLast(bound - Int(stream.total_out))
        return output
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
