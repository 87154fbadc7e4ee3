import CZlib
@testable import OTLPExporter

/// Gunzip for the tests that read back what the exporter compressed (zlib; the daemon has no use for it).
extension Gzip {
    /// Inflates gzip (or zlib) data, refusing more than `limit` bytes of output.
    static func decompress(_ input: [UInt8], limit: Int = 64 << 20) throws -> [UInt8] {
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
