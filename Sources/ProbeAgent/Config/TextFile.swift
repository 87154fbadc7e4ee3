import Foundation
import ProbeLogic

/// Reads a text file the user names: the config, `*_file` secrets, TLS files, `check --token-file`.
/// Only a regular file is read (`FileKind`), of at most `limit` bytes, and it must be UTF-8.
enum TextFile {
    static let limit = 4 << 20

    /// Why a file could not be read; `line`/`column` locate the first byte that is not UTF-8.
    struct Failure: Error, CustomStringConvertible {
        var reason: String
        var line: Int?
        var column: Int?

        var description: String {
            guard let line, let column else { return reason }
            return "\(reason) at line \(line), column \(column)"
        }
    }

    static func contents(of path: String) throws(Failure) -> String {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(reason: reason(errno: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(reason: reason(errno: errno)) }
        if let kind = FileKind.nonRegular(info.st_mode) { throw Failure(reason: "\(kind), not a regular file") }
        guard info.st_size <= limit else { throw Failure(reason: "larger than \(limit >> 20) MiB") }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: reason(errno: errno))
            }
            bytes += chunk[..<n]
        }
        guard bytes.count <= limit else { throw Failure(reason: "larger than \(limit >> 20) MiB") }
        return try utf8(bytes[...])
    }

    /// The text, or where the first byte that is not UTF-8 is.
    private static func utf8(_ bytes: ArraySlice<UInt8>) throws(Failure) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var line = 1, column = 1
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while case .scalarValue(let scalar) = decoder.decode(&iterator) {
            if scalar == "\n" { (line, column) = (line + 1, 1) } else { column += 1 }
        }
        throw Failure(reason: "not UTF-8 text", line: line, column: column)
    }

    private static func reason(errno code: Int32) -> String {
        switch code {
        case ENOENT: "no such file"
        case EACCES, EPERM: "permission denied"
        default: String(cString: strerror(code))
        }
    }
}
