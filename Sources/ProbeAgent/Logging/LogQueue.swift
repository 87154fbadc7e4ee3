import Foundation
import Logging
import Synchronization
import Tracing

/// Log lines on their way to a file descriptor (standard error): callers only append to a bounded
/// queue and never wait; one writer thread writes the lines in order. A reader that stops reading
/// fills the queue, and lines that do not fit are dropped and counted, as are lines a failed
/// write loses (a closed pipe: SIGPIPE is ignored process-wide, so that is EPIPE, not death).
final class LogQueue: @unchecked Sendable {
    enum DropReason: String, CaseIterable {
        case queueFull = "queue_full"
        case writeFailed = "write_failed"
    }

    private let fd: Int32
    private let capacityBytes: Int
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var lines: [String] = []
    /// Of the lines waiting and the batch being written: the bound covers both.
    private var queuedBytes = 0
    private var writing = false
    private var dropped: [DropReason: Int] = [:]
    private var dropCounter: Counter?

    init(fd: Int32 = STDERR_FILENO, capacityBytes: Int = 1 << 20) {
        self.fd = fd
        self.capacityBytes = capacityBytes
        let thread = Thread { [self] in runWriter() }  // lives as long as the process
        thread.name = "probe-agent-log"
        thread.stackSize = 256 << 10
        thread.start()
    }

    /// swift-log's stream handler, formatting as it always has, writing through this queue, at the
    /// level `level` holds now (a reload changes it for every logger at once).
    func handler(label: String, level: LogLevelSwitch) -> SwitchedLogHandler {
        SwitchedLogHandler(stream: StreamLogHandler(label: label, stream: Output(queue: self)), shared: level)
    }

    /// Counts drops (`reason` = queue_full | write_failed) in `counter`, those before the call included.
    func countDrops(in counter: Counter) {
        condition.withLock {
            dropCounter = counter
            for reason in DropReason.allCases { counter.add(dropped[reason] ?? 0, attributes: Self.attributes(reason)) }
        }
    }

    var droppedLines: [DropReason: Int] { condition.withLock { dropped } }

    func append(_ line: String) {
        condition.withLock {
            guard queuedBytes + line.utf8.count <= capacityBytes else { return drop(1, .queueFull) }
            lines.append(line)
            queuedBytes += line.utf8.count
            if lines.count == 1 { condition.signal() }
        }
    }

    /// Waits until every line appended so far is written, or `timeout` passes (a reader that
    /// never reads must not hold up the exit). Returns whether everything was written.
    @discardableResult
    func flush(timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.seconds)
        return condition.withLock {
            while !lines.isEmpty || writing {
                if !condition.wait(until: deadline) { return false }
            }
            return true
        }
    }

    /// Caller holds the lock.
    private func drop(_ count: Int, _ reason: DropReason) {
        dropped[reason, default: 0] += count
        dropCounter?.add(count, attributes: Self.attributes(reason))
    }

    private static func attributes(_ reason: DropReason) -> [Attribute] { [Attribute("reason", .string(reason.rawValue))] }

    private func runWriter() {
        while true {
            let batch = condition.withLock {
                while lines.isEmpty { condition.wait() }
                defer { lines = []; writing = true }
                return lines
            }
            let unwritten = write(batch)
            condition.withLock {
                if unwritten > 0 { drop(unwritten, .writeFailed) }
                queuedBytes -= batch.reduce(0) { $0 + $1.utf8.count }
                writing = false
                condition.broadcast()
            }
        }
    }

    /// Writes the lines in order; returns how many were lost to a write error.
    private func write(_ batch: [String]) -> Int {
        for (index, line) in batch.enumerated() {
            var utf8 = line
            let ok = utf8.withUTF8 { writeFully($0) }
            if !ok { return batch.count - index }
        }
        return 0
    }

    private func writeFully(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 {
                offset += n
            } else if n < 0, errno == EINTR {
                continue
            } else if n < 0, errno == EAGAIN {
                var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)  // a non-blocking stderr: wait, here only
                _ = poll(&ready, 1, 1000)
            } else {
                return false
            }
        }
        return true
    }

    /// What `StreamLogHandler` writes to: one `write` per formatted line.
    struct Output: TextOutputStream, Sendable {
        let queue: LogQueue
        mutating func write(_ string: String) { queue.append(string) }
    }
}

/// The daemon's log level, shared by every logger: SIGHUP's `log_level` changes it in place.
final class LogLevelSwitch: Sendable {
    private let index: Atomic<Int>

    init(_ level: Logger.Level) { index = Atomic(Self.index(of: level)) }

    var level: Logger.Level {
        get { Logger.Level.allCases[index.load(ordering: .relaxed)] }
        set { index.store(Self.index(of: newValue), ordering: .relaxed) }
    }

    private static func index(of level: Logger.Level) -> Int { Logger.Level.allCases.firstIndex(of: level)! }
}

/// A stream handler whose level is the shared switch's, unless this logger set its own
/// (swift-log's "global log level override" pattern, the other way round).
struct SwitchedLogHandler: LogHandler {
    var stream: StreamLogHandler
    let shared: LogLevelSwitch
    private var ownLevel: Logger.Level?

    init(stream: StreamLogHandler, shared: LogLevelSwitch) {
        self.stream = stream
        self.shared = shared
    }

    var logLevel: Logger.Level {
        get { ownLevel ?? shared.level }
        set { ownLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { stream.metadata }
        set { stream.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stream[metadataKey: key] }
        set { stream[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) { stream.log(event: event) }
}
