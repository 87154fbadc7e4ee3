import CCurl
import Foundation
import Synchronization

private let curlGlobalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_SSL)) }()

/// One thread driving one multi handle. Other threads only enqueue commands and wake it up;
/// every libcurl handle is touched on this thread alone.
final class CurlEventLoop: @unchecked Sendable {
    private enum Command {
        case add(CurlTransfer)
        case cancel(CurlTransfer)
    }

    private struct Inbox {
        var commands: [Command] = []
        var stopped = false
    }

    private static let spareHandleLimit = 64

    private let multi: UnsafeMutableRawPointer
    private let inbox = Locked(Inbox())
    // Loop thread only.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var spareHandles: [UnsafeMutableRawPointer] = []

    init() {
        curlGlobalInit
        multi = curl_multi_init()
        _ = pa_multi_setopt_long(multi, CURLMOPT_PIPELINING, 2)  // CURLPIPE_MULTIPLEX
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
            curl_multi_wakeup(multi)
        }
    }

    private func enqueue(_ command: Command) -> Bool {
        // Waking under the lock: after `stopped` is set no wakeup can race the multi handle's cleanup.
        inbox.withLock { inbox in
            guard !inbox.stopped else { return false }
            inbox.commands.append(command)
            if inbox.commands.count == 1 { curl_multi_wakeup(multi) }  // later ones ride on this wakeup
            return true
        }
    }

    private func run() {
        var running: Int32 = 0
        var left: Int32 = 0
        while true {
            let (commands, stopped) = inbox.withLock { inbox in
                let commands = inbox.commands
                inbox.commands = []
                return (commands, inbox.stopped)
            }
            for command in commands {
                switch command {
                case .add(let transfer): start(transfer)
                case .cancel(let transfer): abort(transfer, transfer.cancellationError())
                }
            }
            if stopped { return tearDown() }
            curl_multi_perform(multi, &running)
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                      let transfer = active[easy] else { continue }
                transfer.complete(message.pointee.data.result)
                release(easy)
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
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
    }
}
