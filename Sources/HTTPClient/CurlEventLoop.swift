import CCurl
import Foundation
import Synchronization

private let curlGlobalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_SSL)) }()

/// One thread driving one multi handle through libcurl's multi_socket API on an epoll set: a
/// wake-up touches only the sockets that are ready, not every transfer in flight. Other threads
/// only enqueue commands and wake the loop through an eventfd; every libcurl handle is touched on
/// this thread alone.
///
/// The loop is also a `TaskExecutor`: tasks that prefer it run their jobs on this thread between
/// socket events, so a probe's request, its completion and what follows stay on one thread
/// instead of bouncing through a thread wake-up per step.
final class CurlEventLoop: TaskExecutor, @unchecked Sendable {
    private enum Command {
        case add(CurlTransfer)
        case cancel(CurlTransfer)
    }

    private struct Inbox {
        var commands: [Command] = []
        var jobs: [UnownedJob] = []
        var stopped = false
        var isEmpty: Bool { commands.isEmpty && jobs.isEmpty }
    }

    private static let spareHandleLimit = 64

    private let multi: UnsafeMutableRawPointer
    private let inbox = Locked(Inbox())
    private let epoll: Int32
    private let wakeFD: Int32
    /// The loop thread's pthread id (0 until it starts): enqueueing from it needs no wake-up.
    private let loopThread = Atomic<UInt>(0)
    // Loop thread only (libcurl's callbacks run on it too).
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var spareHandles: [UnsafeMutableRawPointer] = []
    /// When libcurl wants `CURL_SOCKET_TIMEOUT` (its own timeouts, and starting new transfers).
    private var timerDeadline: ContinuousClock.Instant?

    init() {
        curlGlobalInit
        multi = curl_multi_init()
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(epoll >= 0 && wakeFD >= 0, "HTTPClient: no epoll or eventfd (errno \(errno))")
        var wake = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeFD))
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFD, &wake)
        _ = pa_multi_setopt_long(multi, CURLMOPT_PIPELINING, 2)  // CURLPIPE_MULTIPLEX
        let context = Unmanaged.passUnretained(self).toOpaque()  // the loop outlives the multi handle's callbacks
        _ = pa_multi_set_socket_callback(multi, { _, socket, what, context, socketData in
            Unmanaged<CurlEventLoop>.fromOpaque(context!).takeUnretainedValue().watch(socket, what, known: socketData != nil)
            return 0
        }, context)
        _ = pa_multi_set_timer_callback(multi, { _, milliseconds, context in
            let loop = Unmanaged<CurlEventLoop>.fromOpaque(context!).takeUnretainedValue()
            loop.timerDeadline = milliseconds < 0 ? nil : .now + .milliseconds(milliseconds)
            return 0
        }, context)
        let thread = Thread { [self] in run() }  // the thread keeps the loop alive until shutdown
        thread.name = "http-client-curl"
        thread.stackSize = 1 << 20
        thread.start()
    }

    func submit(_ transfer: CurlTransfer) {
        if !enqueue(.add(transfer)) { transfer.fail(transfer.cancellationError("client shut down")) }
    }

    /// Aborts the transfer with `.cancelled`; a no-op once it has finished or been cancelled.
    func cancel(_ transfer: CurlTransfer) {
        guard !transfer.isFinished.load(ordering: .acquiring),
              !transfer.cancelRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = enqueue(.cancel(transfer))
    }

    /// Stops the thread; transfers still running fail with `.cancelled`.
    func shutdown() {
        inbox.withLock { inbox in
            guard !inbox.stopped else { return }
            inbox.stopped = true
            wakeUp()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // Once the loop has stopped, its jobs run on the global pool: a task must never hang.
        if !post({ $0.jobs.append(job) }) { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
    }

    private func enqueue(_ command: Command) -> Bool { post { $0.commands.append(command) } }

    /// Adds to the inbox unless the loop has stopped. Waking under the lock: after `stopped` is set
    /// no wakeup can race the multi handle's cleanup. The loop drains its inbox before it waits, so
    /// only the first entry from another thread wakes it.
    private func post(_ add: (inout Inbox) -> Void) -> Bool {
        inbox.withLock { inbox in
            guard !inbox.stopped else { return false }
            if inbox.isEmpty, !onLoopThread { wakeUp() }
            add(&inbox)
            return true
        }
    }

    var onLoopThread: Bool { loopThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    private func wakeUp() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// libcurl's socket callback: which events to wait for on `socket`. A socket already in the
    /// epoll set carries a mark (`curl_multi_assign`), which libcurl drops when it removes the socket.
    private func watch(_ socket: Int32, _ what: Int32, known: Bool) {
        if what == CURL_POLL_REMOVE {
            epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil)  // fails harmlessly if already closed
            return
        }
        let events = (what & CURL_POLL_IN != 0 ? EPOLLIN.rawValue : 0) | (what & CURL_POLL_OUT != 0 ? EPOLLOUT.rawValue : 0)
        var event = epoll_event(events: events, data: epoll_data_t(fd: socket))
        if known {
            epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event)
        } else {
            epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event)
            curl_multi_assign(multi, socket, UnsafeMutableRawPointer(bitPattern: 1))  // any non-nil mark
        }
    }

    private func run() {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
        var running: Int32 = 0
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var commands: [Command] = [], jobs: [UnownedJob] = []  // swapped with the inbox's: no allocation per turn
        while true {
            let stopped = inbox.withLock { inbox in
                swap(&commands, &inbox.commands)
                swap(&jobs, &inbox.jobs)
                return inbox.stopped
            }
            for command in commands {
                switch command {
                case .add(let transfer): start(transfer)
                case .cancel(let transfer): abort(transfer, transfer.cancellationError())
                }
            }
            for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
            commands.removeAll(keepingCapacity: true)
            jobs.removeAll(keepingCapacity: true)
            if stopped { return tearDown() }
            // Jobs may have queued more work without a wake-up (they ran on this thread): don't sleep on it.
            let idle = inbox.withLock { $0.isEmpty }
            let timeout = idle ? Self.waitMilliseconds(until: timerDeadline) : 0
            let ready = epoll_wait(epoll, &events, Int32(events.count), timeout)
            for event in events.prefix(Int(max(0, ready))) {
                let socket = event.data.fd
                if socket == wakeFD {
                    var count: UInt64 = 0
                    _ = read(wakeFD, &count, 8)
                    continue
                }
                var flags: Int32 = 0
                if event.events & EPOLLIN.rawValue != 0 { flags |= CURL_CSELECT_IN }
                if event.events & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
                if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= CURL_CSELECT_ERR }
                curl_multi_socket_action(multi, socket, flags, &running)
            }
            if let deadline = timerDeadline, deadline <= .now {
                timerDeadline = nil  // the callback may set a new one during the call
                curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
            }
            collectFinished()
        }
    }

    /// Until libcurl's next timeout, rounded up so a wait never spins; at most a second.
    private static func waitMilliseconds(until deadline: ContinuousClock.Instant?) -> Int32 {
        guard let deadline else { return 1000 }
        let remaining = deadline - .now
        guard remaining > .zero else { return 0 }
        return Int32(min(1000, remaining.nanoseconds / 1_000_000 + 1))
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let transfer = active[easy] else { continue }
            transfer.complete(message.pointee.data.result)
            release(easy)
        }
    }

    private func start(_ transfer: CurlTransfer) {
        if transfer.cancelRequested.load(ordering: .acquiring) { return transfer.fail(transfer.cancellationError()) }
        guard let easy = spareHandles.popLast() ?? curl_easy_init() else {
            return transfer.fail(HTTPClientError(kind: .other, message: "could not create a transfer"))
        }
        let code = transfer.attach(to: easy)
        guard code == CURLE_OK else {
            transfer.fail(HTTPClientError(curlCode: code, osErrno: 0, partialStatus: nil, timings: .zero))
            return recycle(easy, of: transfer)
        }
        guard curl_multi_add_handle(multi, easy) == CURLM_OK else {
            transfer.fail(HTTPClientError(kind: .other, message: "could not start the transfer"))
            return recycle(easy, of: transfer)
        }
        active[easy] = transfer
    }

    private func abort(_ transfer: CurlTransfer, _ error: HTTPClientError) {
        guard let easy = transfer.easy, active[easy] === transfer else { return }
        transfer.fail(error)
        release(easy)
    }

    private func release(_ easy: UnsafeMutableRawPointer) {
        guard let transfer = active.removeValue(forKey: easy) else { return }
        curl_multi_remove_handle(multi, easy)
        recycle(easy, of: transfer)
    }

    private func recycle(_ easy: UnsafeMutableRawPointer, of transfer: CurlTransfer) {
        transfer.detach()
        if spareHandles.count < Self.spareHandleLimit {
            curl_easy_reset(easy)
            spareHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    /// Runs after the turn that saw `stopped`, which took every job queued before it; later ones
    /// went to the global pool (`enqueue`), so none is left behind here.
    private func tearDown() {
        for (easy, transfer) in active {
            transfer.fail(transfer.cancellationError("client shut down"))
            curl_multi_remove_handle(multi, easy)
            transfer.detach()
            curl_easy_cleanup(easy)
        }
        active = [:]
        spareHandles.forEach { curl_easy_cleanup($0) }
        spareHandles = []
        curl_multi_cleanup(multi)
        close(epoll)
        close(wakeFD)
    }
}
