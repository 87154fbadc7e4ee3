import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A token file: JSON `{"access_token", "refresh_token", "expires_at"}` (unix seconds) or a bare
/// token. Errors name the path and the cause, never the content.
public enum StoredTokenFile {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notFound(String)
        case unreadable(String, errno: Int32)
        /// A FIFO, device, directory or socket: never read (a FIFO would block the probe thread).
        case notRegular(String, kind: String)
        case malformed(String)
        case writeFailed(String, step: String, errno: Int32)

        public var description: String {
            switch self {
            case .notFound(let path): "token file \(path) not found"
            case .unreadable(let path, let e): "token file \(path) unreadable: \(String(cString: strerror(e)))"
            case .notRegular(let path, let kind): "token file \(path) is \(kind), not a regular file"
            case .malformed(let path): "token file \(path) is neither token JSON nor a bare token"
            case .writeFailed(let path, let step, let e): "token file \(path) not written (\(step): \(String(cString: strerror(e))))"
            }
        }
    }

    /// Token files are small; a bigger one is not a token file.
    static let maxBytes = 64 * 1024

    public static func read(_ path: String) -> Result<OAuthToken, Failure> {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure(errno == ENOENT ? .notFound(path) : .unreadable(path, errno: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(.unreadable(path, errno: errno)) }
        if let kind = FileKind.nonRegular(info.st_mode) { return .failure(.notRegular(path, kind: kind)) }
        guard let data = readAll(fd, limit: maxBytes + 1) else { return .failure(.unreadable(path, errno: errno)) }
        guard data.count <= maxBytes, let token = parse(data) else { return .failure(.malformed(path)) }
        return .success(token)
    }

    static func parse(_ data: Data) -> OAuthToken? {
        guard let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              !text.isEmpty else { return nil }
        guard text.hasPrefix("{") else {
            return text.contains(where: { $0.isWhitespace }) ? nil : OAuthToken(accessToken: Secret(text))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let access = object["access_token"] as? String, !access.isEmpty else { return nil }
        let refresh = (object["refresh_token"] as? String).flatMap { $0.isEmpty ? nil : Secret($0) }
        let expiresAt: Date? = switch object["expires_at"] {
        case let n as NSNumber: Date(timeIntervalSince1970: n.doubleValue)
        case let s as String: Double(s).map { Date(timeIntervalSince1970: $0) }
        default: nil
        }
        return OAuthToken(accessToken: Secret(access), refreshToken: refresh, expiresAt: expiresAt)
    }

    /// The file's JSON with the token fields replaced; other fields of an existing JSON file are kept.
    static func encode(_ token: OAuthToken, over existing: Data?) -> Data {
        var object = existing.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] } ?? [:]
        object["access_token"] = token.accessToken.value
        object["refresh_token"] = token.refreshToken?.value
        object["expires_at"] = token.expiresAt.map { Int($0.timeIntervalSince1970.rounded(.down)) }
        // Only strings, numbers and what JSONSerialization read can be here, so this cannot fail.
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// Replaces the file atomically: a 0600 temp file in the same directory, fsync, rename, fsync of
    /// the directory. Readers see the old or the new token, never a partial one. A symlinked token
    /// file is replaced at its target, so the link survives.
    public static func write(_ token: OAuthToken, to link: String) -> Result<Void, Failure> {
        let path = URL(fileURLWithPath: link).resolvingSymlinksInPath().path
        let data = encode(token, over: FileManager.default.contents(atPath: path))
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temp = directory + "/." + (path as NSString).lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func fail(_ step: String) -> Result<Void, Failure> {
            let e = errno
            unlink(temp)
            return .failure(.writeFailed(link, step: step, errno: e))
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failure(.writeFailed(link, step: "create", errno: errno)) }
        let written = writeAll(fd, data)
        guard written else { close(fd); return fail("write") }
        guard fsync(fd) == 0 else { close(fd); return fail("fsync") }
        guard close(fd) == 0 else { return fail("close") }
        guard rename(temp, path) == 0 else { return fail("rename") }
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 { _ = fsync(dirfd); close(dirfd) }
        return .success(())
    }
}

private func writeAll(_ fd: Int32, _ data: Data) -> Bool {
    data.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}

/// Up to `limit` bytes; nil on a read error (errno set).
private func readAll(_ fd: Int32, limit: Int) -> Data? {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while data.count < limit {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, min($0.count, limit - data.count)) }
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { break }
        data.append(contentsOf: buffer[0..<n])
    }
    return data
}
