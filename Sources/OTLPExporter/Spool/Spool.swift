import Foundation
import Synchronization
import Tracing
#if canImport(Glibc)
import Glibc
#endif

/// What the spool holds and has lost, for the self-metrics. Items are spans or metric data points.
public struct SpoolStats: Sendable, Equatable {
    /// false while appends are refused (disk full, read-only, directory unusable).
    public var writable = true
    /// Bytes of the segment files.
    public var bytes = 0
    /// Records (export requests) waiting to be replayed, by signal.
    public var records: [OTLPSignal: Int] = [:]
    public var items: [OTLPSignal: Int] = [:]
    /// Creation time of the oldest waiting record.
    public var oldestRecord: Date?
    /// Items dropped to stay under `max_bytes`, by signal.
    public var droppedFull: [OTLPSignal: Int] = [:]
    /// Damaged stretches skipped (bad checksum, torn tail, unreadable record).
    public var damaged = 0
    /// Appends that failed on the disk (each turns the spool unwritable for a while).
    public var writeErrors = 0

    public init() {}
}

/// A record handed out for replay; give it back with `settle`.
package struct SpoolTicket: Sendable, Equatable {
    let signal: OTLPSignal
    let position: Spool.Position
    let itemCount: Int
}

/// Export requests that could not be delivered, on disk until they are: segment files of framed
/// records (`SpoolFrame`) in `config.directory`, appended to one at a time, read oldest first per
/// signal, removed once every record in them is settled. A `cursor` file keeps, per signal, how far
/// replay got, so a restart replays only what is left.
///
/// Every method does file I/O on the caller's thread; the export pipeline calls them through `io`,
/// on the spool's own thread, never on a probe's. Stats are published after each change and never
/// wait on the disk.
public final class Spool: Sendable {
    public let config: SpoolConfig
    /// A segment is closed and a new one started once it is this large; dropping for room goes by
    /// whole segments.
    let segmentBytes: Int
    private let retryInterval: Duration
    private let diagnostics: DiagnosticsSink
    private let state: Mutex<State>
    private let published = Mutex(SpoolStats())
    private let queue = DispatchQueue(label: "probe-agent.spool")
    private let replayers = Mutex<[WakeSignal]>([])
    /// Drops for room: the first at once, then a line a minute, and the end once the spool is empty.
    private let fullLog: OutageLog

    struct Position: Comparable, Sendable, Hashable {
        var segment: UInt64
        var offset: Int
        static func < (a: Position, b: Position) -> Bool { (a.segment, a.offset) < (b.segment, b.offset) }
    }

    private struct Entry {
        var offset: Int
        var length: Int
        var summary: SpoolFrame.Summary
    }

    private struct Segment {
        var number: UInt64
        var bytes: Int
        var entries: [Entry]
    }

    private struct Checkout {
        var position: Position
        var itemCount: Int
        /// Its segment was dropped for room while it was out.
        var dropped = false
    }

    private struct State {
        var opened = false
        var lockFD: Int32 = -1
        var segments: [Segment] = []
        /// Open for appending: the last of `segments`.
        var activeFD: Int32 = -1
        var nextSegment: UInt64 = 1
        /// Per signal: every record before this position is settled.
        var cursor: [OTLPSignal: Position] = [:]
        var checkedOut: [OTLPSignal: Checkout] = [:]
        /// Set while appends are refused; the reason, and when to try again.
        var unwritable: (reason: String, retryAt: ContinuousClock.Instant)?
        var counters = SpoolStats()
    }

    /// Opens (creating) `config.directory` and scans what a previous run left. A directory that
    /// cannot be used is reported and retried on later appends; the spool then refuses appends.
    public init(config: SpoolConfig, diagnostics: @escaping DiagnosticsSink = { _ in }, segmentBytes: Int? = nil,
                retryInterval: Duration = .seconds(30)) {
        self.config = config
        self.segmentBytes = segmentBytes ?? min(16 << 20, max(16 << 10, config.maxBytes / 16))
        self.retryInterval = retryInterval
        self.diagnostics = diagnostics
        fullLog = OutageLog(subject: "OTLP spool \(config.directory)", unit: "spans or data points", sink: diagnostics)
        state = Mutex(State())
        state.withLock { s in
            openDirectory(&s)
            publish(s)
        }
    }

    deinit { close() }

    public var stats: SpoolStats { published.withLock { $0 } }

    /// Runs `work` on the spool's own thread: disk waits never hold a cooperative thread.
    package func io<T: Sendable>(_ work: @escaping @Sendable (Spool) -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work(self)) }
        }
    }

    /// Registers a replay task's wake-up: `collectorAnswered` rings them all.
    func addReplayer(_ wake: WakeSignal) { replayers.withLock { $0.append(wake) } }

    /// A replay got through: the other signals' replays try again now rather than after their backoff.
    func collectorAnswered() { replayers.withLock { $0 }.forEach { $0.notify() } }

    // MARK: append

    /// Stores `record`, dropping the oldest segments when it would not fit under `max_bytes`.
    /// false when it was not stored: the spool is unwritable, or the record alone is over `max_bytes`.
    @discardableResult
    package func append(_ record: SpoolRecord) -> Bool {
        let frame = SpoolFrame.encode(record)
        var dropped = 0
        let (stored, lines) = state.withLock { s -> (Bool, [Diagnostic]) in
            defer { publish(s) }
            var lines: [Diagnostic] = []
            let wasUnwritable = s.unwritable != nil
            if let unwritable = s.unwritable {
                guard ContinuousClock.now >= unwritable.retryAt else { return (false, []) }
                if !s.opened { openDirectory(&s) }
                guard s.opened else { return (false, []) }
            }
            guard frame.count <= config.maxBytes else { return (false, []) }
            dropped = makeRoom(&s, for: frame.count)
            do {
                try write(frame, &s)
            } catch {
                s.counters.writeErrors += 1
                if s.unwritable == nil {
                    lines.append(Diagnostic(.warning, "OTLP spool \(config.directory): cannot write (\(error)); export requests "
                        + "the collector does not take are retried in memory and dropped when retries run out, "
                        + "as without a spool, until it can (next try in \(OutageLog.text(retryInterval)))"))
                }
                s.unwritable = ("\(error)", ContinuousClock.now + retryInterval)
                return (false, lines)
            }
            let summary = SpoolFrame.Summary(signal: record.signal, itemCount: record.itemCount, createdAt: record.createdAt)
            let last = s.segments.count - 1
            s.segments[last].entries.append(Entry(offset: s.segments[last].bytes, length: frame.count, summary: summary))
            s.segments[last].bytes += frame.count
            if wasUnwritable {
                s.unwritable = nil
                lines.append(Diagnostic(.notice, "OTLP spool \(config.directory) is writable again"))
            }
            return (true, lines)
        }
        if dropped > 0 {
            fullLog.failure("reached max_bytes \(ByteSize.text(config.maxBytes)), dropping the oldest", dropped: dropped)
        }
        lines.forEach(diagnostics)
        return stored
    }

    /// Drops whole segments, oldest first, until `bytes` more fit; returns the items dropped.
    private func makeRoom(_ s: inout State, for bytes: Int) -> Int {
        var dropped = 0
        while !s.segments.isEmpty, s.segments.reduce(0, { $0 + $1.bytes }) + bytes > config.maxBytes {
            let oldest = s.segments.removeFirst()
            if s.segments.isEmpty { closeActive(&s) }
            for entry in oldest.entries where !isSettled(entry, in: oldest.number, s) {
                let position = Position(segment: oldest.number, offset: entry.offset)
                if s.checkedOut[entry.summary.signal]?.position == position {
                    s.checkedOut[entry.summary.signal]?.dropped = true  // counted when it comes back unsent
                    continue
                }
                s.counters.droppedFull[entry.summary.signal, default: 0] += entry.summary.itemCount
                dropped += entry.summary.itemCount
            }
            unlink(path(of: oldest.number))
        }
        return dropped
    }

    /// Appends `frame` to the active segment, starting a new one when there is none or it is full.
    /// A failed write is cut back off, and the segment closed.
    private func write(_ frame: [UInt8], _ s: inout State) throws {
        if s.activeFD >= 0, let last = s.segments.last, last.bytes >= segmentBytes { closeActive(&s) }
        if s.activeFD < 0 {
            let number = s.nextSegment
            let fd = Glibc.open(path(of: number), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw SpoolError.posix("creating a segment", errno) }
            s.nextSegment += 1
            s.activeFD = fd
            s.segments.append(Segment(number: number, bytes: 0, entries: []))
            if config.fsync == .batch { syncDirectory() }
        }
        let start = s.segments[s.segments.count - 1].bytes
        let written = frame.withUnsafeBytes { raw -> Int in
            var done = 0
            while done < raw.count {
                let n = pwrite(s.activeFD, raw.baseAddress! + done, raw.count - done, off_t(start + done))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return -Int(errno == 0 ? EIO : errno) }
                done += n
            }
            return done
        }
        let synced = written > 0 && config.fsync == .batch ? fsync(s.activeFD) == 0 : true
        if written < 0 || !synced {
            let code = written < 0 ? Int32(-written) : errno
            _ = ftruncate(s.activeFD, off_t(start))
            closeActive(&s)
            if s.segments.last?.entries.isEmpty == true, let empty = s.segments.popLast() { unlink(path(of: empty.number)) }
            throw SpoolError.posix(written < 0 ? "writing" : "syncing", code)
        }
    }

    private func closeActive(_ s: inout State) {
        guard s.activeFD >= 0 else { return }
        Glibc.close(s.activeFD)
        s.activeFD = -1
    }

    // MARK: replay

    /// The oldest record of `signal` not yet settled, read from disk, or nil when there is none.
    /// A record that no longer checks out is skipped and counted.
    package func oldest(_ signal: OTLPSignal) -> (record: SpoolRecord, ticket: SpoolTicket)? {
        let (result, persist) = state.withLock { s -> ((SpoolRecord, SpoolTicket)?, Bool) in
            defer { publish(s) }
            var skipped = false
            while let (segment, entry) = firstPending(signal, s) {
                let position = Position(segment: segment, offset: entry.offset)
                if let record = read(entry, in: segment), record.signal == signal {
                    s.checkedOut[signal] = Checkout(position: position, itemCount: entry.summary.itemCount)
                    return ((record, SpoolTicket(signal: signal, position: position, itemCount: entry.summary.itemCount)), skipped)
                }
                s.counters.damaged += 1
                advance(&s, signal, past: position)
                skipped = true
            }
            return (nil, skipped)
        }
        if persist { settleSegments() }
        return result
    }

    /// Gives a record back: `done` when the collector accepted it or rejected it for good (it
    /// leaves the spool), else it stays for the next try.
    package func settle(_ ticket: SpoolTicket, done: Bool) {
        state.withLock { s in
            defer { publish(s) }
            let checkout = s.checkedOut.removeValue(forKey: ticket.signal)
            if done {
                advance(&s, ticket.signal, past: ticket.position)
            } else if let checkout, checkout.position == ticket.position, checkout.dropped {
                s.counters.droppedFull[ticket.signal, default: 0] += ticket.itemCount
            }
        }
        if done { settleSegments() }
    }

    private func firstPending(_ signal: OTLPSignal, _ s: State) -> (UInt64, Entry)? {
        for segment in s.segments {
            if let entry = segment.entries.first(where: { $0.summary.signal == signal && !isSettled($0, in: segment.number, s) }) {
                return (segment.number, entry)
            }
        }
        return nil
    }

    private func isSettled(_ entry: Entry, in segment: UInt64, _ s: State) -> Bool {
        guard let cursor = s.cursor[entry.summary.signal] else { return false }
        return Position(segment: segment, offset: entry.offset) < cursor
    }

    private func advance(_ s: inout State, _ signal: OTLPSignal, past position: Position) {
        let next = Position(segment: position.segment, offset: position.offset + 1)
        if s.cursor[signal].map({ $0 < next }) ?? true { s.cursor[signal] = next }
    }

    private func read(_ entry: Entry, in segment: UInt64) -> SpoolRecord? {
        let fd = Glibc.open(path(of: segment), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var frame = [UInt8](repeating: 0, count: entry.length)
        let got = frame.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, entry.length, off_t(entry.offset)) }
        return got == entry.length ? SpoolFrame.decode(frame[...]) : nil
    }

    /// Deletes the segments whose records are all settled and saves the cursor.
    private func settleSegments() {
        let empty = state.withLock { s -> Bool in
            defer { publish(s) }
            removeSettledSegments(&s)
            saveCursor(s)
            return s.segments.isEmpty
        }
        if empty { fullLog.success() }
    }

    /// The active segment goes too once all of it is settled: the next append starts a new one.
    private func removeSettledSegments(_ s: inout State) {
        let settled = Set(s.segments.filter { segment in
            segment.entries.allSatisfy { isSettled($0, in: segment.number, s) }
        }.map(\.number))
        guard !settled.isEmpty else { return }
        if let last = s.segments.last, settled.contains(last.number) { closeActive(&s) }
        for number in settled { unlink(path(of: number)) }
        s.segments.removeAll { settled.contains($0.number) }
    }

    // MARK: files

    private func path(of segment: UInt64) -> String {
        config.directory + "/" + String(repeating: "0", count: max(0, 20 - String(segment).count)) + String(segment) + ".seg"
    }

    private var cursorPath: String { config.directory + "/cursor" }

    private func saveCursor(_ s: State) {
        let text = s.cursor.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key.rawValue) \($0.value.segment) \($0.value.offset)\n" }.joined()
        let temporary = cursorPath + ".tmp"
        guard (try? text.write(toFile: temporary, atomically: false, encoding: .utf8)) != nil else { return }
        rename(temporary, cursorPath)
    }

    private func loadCursor() -> [OTLPSignal: Position] {
        guard let text = try? String(contentsOfFile: cursorPath, encoding: .utf8) else { return [:] }
        var cursor: [OTLPSignal: Position] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let signal = OTLPSignal(rawValue: String(fields[0])),
                  let segment = UInt64(fields[1]), let offset = Int(fields[2]) else { continue }
            cursor[signal] = Position(segment: segment, offset: offset)
        }
        return cursor
    }

    /// Creates the directory, takes its lock (one agent per spool), reads the cursor and scans the
    /// segments a previous run left: damaged stretches are skipped and counted, settled segments
    /// deleted. New records always go to a new segment.
    private func openDirectory(_ s: inout State) {
        do {
            try FileManager.default.createDirectory(atPath: config.directory, withIntermediateDirectories: true)
            let lockFD = Glibc.open(config.directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
            guard lockFD >= 0 else { throw SpoolError.posix("opening the lock file", errno) }
            guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
                let code = errno
                Glibc.close(lockFD)
                throw code == EWOULDBLOCK ? SpoolError.inUse : SpoolError.posix("locking", code)
            }
            s.lockFD = lockFD
        } catch {
            let first = s.unwritable == nil
            s.unwritable = ("\(error)", ContinuousClock.now + retryInterval)
            if first {
                diagnostics(Diagnostic(.warning, "OTLP spool \(config.directory) unusable (\(error)); export requests the "
                    + "collector does not take are retried in memory and dropped when retries run out, as without a spool "
                    + "(next try in \(OutageLog.text(retryInterval)))"))
            }
            return
        }
        s.opened = true
        s.unwritable = nil
        s.cursor = loadCursor()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: config.directory)) ?? []
        let numbers = names.compactMap { name -> UInt64? in
            guard name.hasSuffix(".seg") else { return nil }
            return UInt64(name.dropLast(4))
        }.sorted()
        for number in numbers {
            guard let data = FileManager.default.contents(atPath: path(of: number)) else {
                s.counters.damaged += 1
                continue
            }
            let (records, damaged) = SpoolFrame.scan(Array(data))
            s.counters.damaged += damaged
            let entries = records.map { Entry(offset: $0.offset, length: $0.length, summary: $0.summary) }
            s.segments.append(Segment(number: number, bytes: data.count, entries: entries))
        }
        s.nextSegment = max(numbers.last ?? 0, s.cursor.values.map(\.segment).max() ?? 0) + 1
        if s.counters.damaged > 0 {
            diagnostics(Diagnostic(.warning, "OTLP spool \(config.directory): skipped \(s.counters.damaged) damaged "
                + "stretch\(s.counters.damaged == 1 ? "" : "es") (torn or corrupt records); replaying the rest"))
        }
        removeSettledSegments(&s)
        let pending = s.segments.reduce(0) { total, segment in
            total + segment.entries.count { !isSettled($0, in: segment.number, s) }
        }
        if pending > 0 {
            diagnostics(Diagnostic(.info, "OTLP spool \(config.directory): \(pending) export request"
                + "\(pending == 1 ? "" : "s") from an earlier run to replay"))
        }
    }

    private func syncDirectory() {
        let fd = Glibc.open(config.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        Glibc.close(fd)
    }

    /// Releases the files and the directory lock (a later `Spool` on the directory may take it).
    public func close() {
        state.withLock { s in
            closeActive(&s)
            if s.lockFD >= 0 {
                Glibc.close(s.lockFD)
                s.lockFD = -1
            }
            s.opened = false
        }
    }

    private func publish(_ s: State) {
        var stats = s.counters
        stats.writable = s.unwritable == nil
        stats.bytes = s.segments.reduce(0) { $0 + $1.bytes }
        stats.records = [:]
        stats.items = [:]
        stats.oldestRecord = nil
        for segment in s.segments {
            for entry in segment.entries where !isSettled(entry, in: segment.number, s) {
                stats.records[entry.summary.signal, default: 0] += 1
                stats.items[entry.summary.signal, default: 0] += entry.summary.itemCount
                stats.oldestRecord = min(stats.oldestRecord ?? entry.summary.createdAt, entry.summary.createdAt)
            }
        }
        published.withLock { $0 = stats }
    }
}

enum SpoolError: Error, CustomStringConvertible {
    case posix(String, Int32)
    case inUse

    var description: String {
        switch self {
        case .posix(let what, let code): return "\(what): \(String(cString: strerror(code)))"
        case .inUse: return "the directory is in use by another probe-agent"
        }
    }
}
