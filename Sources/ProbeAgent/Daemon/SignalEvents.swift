import Dispatch
import Foundation

/// Process signals as an async sequence (SIGTERM/SIGINT stop, SIGHUP reloads).
enum SignalEvents {
    static func stream(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let queue = DispatchQueue(label: "probe-agent.signals")
            nonisolated(unsafe) let sources = signals.map { number -> DispatchSourceSignal in
                signal(number, SIG_IGN)  // let the dispatch source, not the default action, handle it
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            }
            continuation.onTermination = { _ in sources.forEach { $0.cancel() } }
        }
    }
}
