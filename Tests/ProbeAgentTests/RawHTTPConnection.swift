import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client on 127.0.0.1 that sends exactly the bytes it is given: requests no HTTP
/// client would send (huge heads, trickled heads, bodies over a cap). Use it off the concurrency
/// pool (`offPool`), which has as many threads as cores.
final class RawHTTPConnection {
    struct Response {
        var status: Int
        var head: String
        var body: [UInt8]
    }

    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError("socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw RawHTTPError("connect to port \(port) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Sends everything; false when the peer closed or reset first (no SIGPIPE).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads one response (head, then `Content-Length` bytes of body unless `head` is set);
    /// nil when the connection ends or `timeout` passes first.
    func readResponse(timeout: Duration, head: Bool = false) -> Response? {
        let deadline = ContinuousClock.now + timeout
        var data: [UInt8] = []
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let end = Self.find(terminator, in: data) {
                let headText = String(decoding: data[..<end], as: UTF8.self)
                let lines = headText.components(separatedBy: "\r\n")
                guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
                let length = head ? 0 : lines.dropFirst().compactMap { line -> Int? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                    return Int(parts[1].trimmingCharacters(in: .whitespaces))
                }.first ?? 0
                let bodyStart = end + terminator.count
                if data.count - bodyStart >= length {
                    return Response(status: status, head: headText, body: Array(data[bodyStart..<(bodyStart + length)]))
                }
            }
            guard let chunk = receive(until: deadline), !chunk.isEmpty else { return nil }
            data += chunk
        }
    }

    /// True when the server closes the connection (EOF or reset) before `timeout`; bytes
    /// still arriving before the close are read and dropped.
    func closedByPeer(within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard let chunk = receive(until: deadline) else { return false }
            if chunk.isEmpty { return true }
        }
    }

    /// Some bytes; [] at EOF or reset; nil at the deadline.
    private func receive(until deadline: ContinuousClock.Instant) -> [UInt8]? {
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return nil }
        var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let millis = Int32(max(1, left.nanoseconds / 1_000_000))
        let ready = poll(&pollfd, 1, millis)
        if ready < 0, errno == EINTR { return receive(until: deadline) }
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer[..<count]) : []
    }

    private static func find(_ needle: [UInt8], in data: [UInt8]) -> Int? {
        guard data.count >= needle.count else { return nil }
        for i in 0...(data.count - needle.count) where data[i] == needle[0] && Array(data[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}

struct RawHTTPError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs blocking work on its own thread, so waiting sockets never hold a concurrency-pool thread.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// A GET whose head is padded to `headBytes` with one `X-Fill` header.
func requestHead(path: String = "/healthz", headBytes: Int) -> [UInt8] {
    let start = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fill: "
    let end = "\r\n\r\n"
    let fill = max(0, headBytes - start.utf8.count - end.utf8.count)
    return Array(start.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: fill) + Array(end.utf8)
}
