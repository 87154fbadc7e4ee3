import Foundation
import HTTPClient
import Synchronization
import TestSupport
import Tracing
@testable import OTLPExporter

/// The Python OTLP receiver (Tests/Fixtures/otlp_receiver.py): records decoded requests, plays scripts.
final class Receiver: Sendable {
    let server: FixtureServer
    var base: String { server.baseURL }
    var tracesURL: String { base + "/v1/traces" }
    var metricsURL: String { base + "/v1/metrics" }

    /// `port`: a given one (a collector that comes back where the exporter expects it).
    init(port: Int? = nil) throws { server = try FixtureServer(script: "otlp_receiver.py", port: port) }

    func received() async throws -> [[String: Any]] {
        let response = try await HTTPClient.shared.execute(HTTPRequest(url: base + "/received"))
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] ?? []
    }

    /// Scripted responses for the next export requests (see the fixture's docstring).
    func script(_ steps: [[String: Any]]) async throws {
        let body = try JSONSerialization.data(withJSONObject: steps)
        _ = try await HTTPClient.shared.execute(HTTPRequest(method: "POST", url: base + "/_script", body: Array(body)))
    }

    func clear() async throws {
        _ = try await HTTPClient.shared.execute(HTTPRequest(method: "DELETE", url: base + "/received"))
    }
}

/// Collects diagnostics.
final class LogCapture: Sendable {
    private let storage = Mutex<[Diagnostic]>([])
    var entries: [Diagnostic] { storage.withLock { $0 } }
    /// "level: message"
    var lines: [String] { entries.map(\.description) }
    /// Lines at `level` or above.
    func lines(atLeast level: DiagnosticLevel) -> [String] { entries.filter { $0.level >= level }.map(\.message) }
    var sink: DiagnosticsSink { { d in self.storage.withLock { $0.append(d) } } }
    var text: String { lines.joined(separator: "\n") }
}

/// A clock whose sleeps return at once and move time forward; records what was slept.
final class FakeClock: Sendable {
    private let start = ContinuousClock.now
    private let state = Mutex<(offset: Duration, sleeps: [Duration])>((.zero, []))

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
    func advance(_ d: Duration) { state.withLock { $0.offset += d } }

    var exportClock: ExportClock {
        ExportClock(now: { self.start + self.state.withLock { $0.offset } },
                    wallNow: { Date(timeIntervalSince1970: 1_700_000_000) + self.state.withLock { $0.offset }.seconds },
                    sleep: { d in self.state.withLock { $0.offset += d; $0.sleeps.append(d) } })
    }
}

/// A transport that answers from a script and records requests; "time" per request comes from a FakeClock.
final class FakeTransport: OTLPTransport {
    enum Step: Sendable {
        case status(Int, headers: [HTTPHeader] = [], body: [UInt8] = [])
        case error(HTTPClientError.Kind)
        /// A request that takes this long on the fake clock, then answers 200.
        case slow(Duration)
    }
    private let state = Mutex<(steps: [Step], requests: [HTTPRequest], inFlight: Int, maxInFlight: Int)>(([], [], 0, 0))
    private let clock: FakeClock?
    private let realDelay: Duration

    init(_ steps: [Step], clock: FakeClock? = nil, realDelay: Duration = .zero) {
        self.clock = clock
        self.realDelay = realDelay
        state.withLock { $0.steps = steps }
    }

    var requests: [HTTPRequest] { state.withLock { $0.requests } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        let step = state.withLock { s -> Step in
            s.requests.append(request)
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
            return s.steps.isEmpty ? .status(200) : s.steps.removeFirst()
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        if realDelay > .zero { try await Task.sleep(for: realDelay) }
        switch step {
        case .status(let code, let headers, let body):
            return HTTPResponse(status: code, headers: HTTPHeaders(headers), body: body)
        case .error(let kind):
            throw HTTPClientError(kind: kind, message: "scripted \(kind.rawValue)")
        case .slow(let d):
            clock?.advance(d)
            return HTTPResponse(status: 200)
        }
    }
}

/// Canonical JSON text of a decoded value, for field-by-field comparison.
func canon(_ value: Any?) -> String {
    guard let value else { return "<absent>" }
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else {
        return "<not JSON: \(value)>"
    }
    return String(decoding: data, as: UTF8.self)
}

/// `canon` of a JSON literal.
func canon(json: String) -> String {
    canon(try! JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]))
}

func config(_ signal: OTLPSignal, endpoint: String, protocol proto: OTLPProtocol = .httpProtobuf,
            compression: OTLPCompression = .none, timeout: Duration? = .seconds(5)) -> SignalConfig {
    var c = SignalConfig(signal: signal, endpoint: endpoint)
    c.protocol = proto
    c.compression = compression
    c.timeout = timeout
    return c
}

/// Retries fast in tests.
let quickRetry = RetryPolicy(base: .milliseconds(20), cap: .milliseconds(200))

enum Sample {
    static let traceID = TraceID(high: 0x5b8e_fff7_9803_8103, low: 0xd269_b633_813f_c60c)
    static let otherTraceID = TraceID(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10)

    static func span(_ name: String, id: UInt64 = 0x1111, parent: SpanID? = nil, attributes: [Attribute] = []) -> SpanData {
        SpanData(context: SpanContext(traceID: traceID, spanID: SpanID(id)), parentSpanID: parent, name: name,
                 kind: .internal, startTimeUnixNano: 1_544_712_660_000_000_000, endTimeUnixNano: 1_544_712_661_000_000_000,
                 attributes: attributes, scope: InstrumentationScope(name: "probe-agent"))
    }

    static func spans(_ count: Int) -> [SpanData] {
        (0..<count).map { span("span-\($0)", id: UInt64($0 + 1), attributes: [Attribute("i", .int($0))]) }
    }
}
