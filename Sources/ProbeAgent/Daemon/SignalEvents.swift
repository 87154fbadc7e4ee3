import Dispatch
import Foundation
import Synchronization

/// The daemon's signals: SIGHUP asks for a reload; the first SIGTERM or SIGINT asks for a graceful
/// stop; a second one while stopping calls `forceExit` at once, on the signal queue, so it works
/// whatever the shutdown is waiting for.
final class SignalEvents: Sendable {
    let reloads: AsyncStream<Void>
    /// Yields the first SIGTERM/SIGINT, then finishes.
    let stop: AsyncStream<Int32>
    nonisolated(unsafe) private let sources: [DispatchSourceSignal]

    init(forceExit: @escaping @Sendable (Int32) -> Void) {
        let (reloads, reload) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (stop, stopRequest) = AsyncStream.makeStream(of: Int32.self)
        self.reloads = reloads
        self.stop = stop
        let stopSignals = Atomic(0)
        let queue = DispatchQueue(label: "probe-agent.signals")
        sources = [SIGHUP, SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)  // let the dispatch source, not the default action, handle it
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if number == SIGHUP { return _ = reload.yield() }
                if stopSignals.add(1, ordering: .relaxed).newValue == 1 {
                    stopRequest.yield(number)
                    stopRequest.finish()
                } else {
                    forceExit(number)
                }
            }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        default: "signal \(signal)"
        }
    }
}
