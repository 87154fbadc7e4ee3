import Synchronization
import XCTest
@testable import Tracing

/// Collects finished spans in order.
final class CollectingProcessor: SpanProcessor {
    private let state = Mutex<(spans: [SpanData], started: Int, flushes: Int, shutdowns: Int)>(([], 0, 0, 0))
    var spans: [SpanData] { state.withLock { $0.spans } }
    var started: Int { state.withLock { $0.started } }
    var shutdowns: Int { state.withLock { $0.shutdowns } }
    var flushes: Int { state.withLock { $0.flushes } }
    func onStart(_ span: Span) { state.withLock { $0.started += 1 } }
    func onEnd(_ span: SpanData) { state.withLock { $0.spans.append(span) } }
    func forceFlush(deadline: ContinuousClock.Instant) async { state.withLock { $0.flushes += 1 } }
    func shutdown(deadline: ContinuousClock.Instant) async { state.withLock { $0.shutdowns += 1 } }
}

/// A latch that suspended tasks wait on until `open()`; it ignores cancellation on purpose.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { c in
            let open = state.withLock { s -> Bool in
                if !s.open { s.waiters.append(c) }
                return s.open
            }
            if open { c.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { s in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
}

/// Records batches; optionally waits on a gate or sleeps per export; tracks concurrency.
final class RecordingExporter: SpanExporter {
    struct State {
        var batches: [[SpanData]] = []
        var calls = 0
        var inFlight = 0
        var maxInFlight = 0
        var shutdowns = 0
        var flushes = 0
    }

    private let state = Mutex(State())
    let gate: Gate?
    let delay: Duration?
    let result: ExportResult

    init(gate: Gate? = nil, delay: Duration? = nil, result: ExportResult = .success) {
        self.gate = gate
        self.delay = delay
        self.result = result
    }

    var batches: [[SpanData]] { state.withLock { $0.batches } }
    var spanCount: Int { state.withLock { $0.batches.reduce(0) { $0 + $1.count } } }
    var calls: Int { state.withLock { $0.calls } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }
    var shutdowns: Int { state.withLock { $0.shutdowns } }
    var flushes: Int { state.withLock { $0.flushes } }

    func export(_ batch: [SpanData]) async -> ExportResult {
        state.withLock { s in
            s.calls += 1
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
        }
        if let gate { await gate.wait() }
        if let delay { try? await Task.sleep(for: delay) }
        state.withLock { s in
            s.inFlight -= 1
            s.batches.append(batch)
        }
        return result
    }

    func forceFlush(deadline: ContinuousClock.Instant) async { state.withLock { $0.flushes += 1 } }
    func shutdown(deadline: ContinuousClock.Instant) async { state.withLock { $0.shutdowns += 1 } }
}

/// Polls `condition` until it holds or `timeout` passes (generous: this is not a performance check).
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return condition()
}

func makeSpan(_ name: String = "span", traceID: TraceID = .random(), parent: SpanID? = nil,
              parentIsRemote: Bool? = nil, status: SpanStatus = .unset, attributes: [Attribute] = [],
              events: [SpanEvent] = []) -> SpanData {
    SpanData(context: SpanContext(traceID: traceID, spanID: .random()), parentSpanID: parent, name: name,
             startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: attributes, events: events, status: status,
             scope: .test, parentIsRemote: parent == nil ? nil : (parentIsRemote ?? false))
}

/// A generator replaying fixed values (then zeros).
struct ScriptedGenerator: RandomNumberGenerator {
    var values: [UInt64]
    mutating func next() -> UInt64 { values.isEmpty ? 0 : values.removeFirst() }
}

extension InstrumentationScope {
    /// Tests name their own scope; the agent's is `Telemetry.scope`.
    static let test = InstrumentationScope(name: "test")
}
