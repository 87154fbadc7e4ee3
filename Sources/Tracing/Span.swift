import Synchronization

/// Caps on what one span may hold (the SDK's span limits); excess is dropped and counted.
public struct SpanLimits: Sendable, Equatable {
    public var attributeCount: Int = 128
    public var attributeValueLength: Int? = nil
    public var eventCount: Int = 128
    public var linkCount: Int = 128
    public var attributesPerEvent: Int = 128
    public var attributesPerLink: Int = 128

    public init() {}
    public static let `default` = SpanLimits()
}

/// A span being recorded. Thread-safe; ends once. When not recording (sampled out) it still
/// carries a valid context for propagation but keeps nothing.
public final class Span: Sendable {
    public let context: SpanContext
    public let parentSpanID: SpanID?
    public let isRecording: Bool
    let parentIsRemote: Bool?
    private let state: Mutex<State>
    private let tracer: Tracer?

    struct State {
        var data: SpanData
        var ended = false
    }

    init(context: SpanContext, parentSpanID: SpanID?, parentIsRemote: Bool?, name: String, kind: SpanKind,
         startTimeUnixNano: UInt64, attributes: [Attribute], links: [SpanLink], isRecording: Bool, tracer: Tracer?) {
        self.context = context
        self.parentSpanID = parentSpanID
        self.parentIsRemote = parentIsRemote
        self.isRecording = isRecording
        self.tracer = tracer
        var data = SpanData(context: context, parentSpanID: parentSpanID, name: name, kind: kind,
                            startTimeUnixNano: startTimeUnixNano, endTimeUnixNano: startTimeUnixNano,
                            scope: tracer?.scope ?? InstrumentationScope(name: ""),  // without a tracer: never exported
                            parentIsRemote: parentIsRemote)
        if isRecording, let limits = tracer?.limits {
            if Self.fitsAsIs(attributes, limits) {
                data.attributes = attributes  // shares the caller's buffer: no copy on the hot path
            } else {
                data.attributes.reserveCapacity(min(attributes.count, limits.attributeCount))
                for attribute in attributes { Self.set(attribute.key, attribute.value, in: &data, limits: limits) }
            }
            for link in links { Self.add(link, to: &data, limits: limits) }
        }
        self.state = Mutex(State(data: data))
    }

    /// A span that records nothing, only propagates `context`.
    public static func nonRecording(_ context: SpanContext) -> Span {
        Span(context: context, parentSpanID: nil, parentIsRemote: nil, name: "", kind: .internal,
             startTimeUnixNano: 0, attributes: [], links: [], isRecording: false, tracer: nil)
    }

    public var name: String { state.withLock { $0.data.name } }

    public func setAttribute(_ key: String, _ value: AttributeValue) {
        guard isRecording, let limits = tracer?.limits else { return }
        state.withLock { s in
            guard !s.ended else { return }
            Self.set(key, value, in: &s.data, limits: limits)
        }
    }

    public func setAttributes(_ attributes: [Attribute]) {
        for attribute in attributes { setAttribute(attribute.key, attribute.value) }
    }

    public func attribute(_ key: String) -> AttributeValue? {
        state.withLock { $0.data.attributes[key] }
    }

    public func addEvent(_ name: String, attributes: [Attribute] = [], timeUnixNano: UInt64? = nil) {
        guard isRecording, let limits = tracer?.limits else { return }
        let time = timeUnixNano ?? wallClockUnixNano()
        state.withLock { s in
            guard !s.ended else { return }
            guard s.data.events.count < limits.eventCount else {
                s.data.droppedEventsCount += 1
                return
            }
            let kept = Array(attributes.prefix(limits.attributesPerEvent)).map { Self.truncated($0, limits) }
            s.data.events.append(SpanEvent(name: name, timeUnixNano: time, attributes: kept,
                                           droppedAttributesCount: attributes.count - kept.count))
        }
    }

    public func addLink(_ link: SpanLink) {
        guard isRecording, let limits = tracer?.limits else { return }
        state.withLock { s in
            guard !s.ended else { return }
            Self.add(link, to: &s.data, limits: limits)
        }
    }

    public func setStatus(_ status: SpanStatus) {
        guard isRecording else { return }
        state.withLock { s in
            guard !s.ended else { return }
            // OK is final; an unset status never overrides a set one.
            if s.data.status.code == .ok || status.code == .unset { return }
            s.data.status = status
        }
    }

    public func updateName(_ name: String) {
        guard isRecording else { return }
        state.withLock { s in if !s.ended { s.data.name = name } }
    }

    /// Records an error as an `exception` event (semantic conventions) and sets ERROR status.
    public func recordError(_ error: any Error) {
        addEvent("exception", attributes: [
            Attribute("exception.type", .string(String(reflecting: type(of: error)))),
            Attribute("exception.message", .string(String(describing: error))),
        ])
        setStatus(.error(String(describing: error)))
    }

    public func end(timeUnixNano: UInt64? = nil) {
        let finished: SpanData? = state.withLock { s in
            guard !s.ended else { return nil }
            s.ended = true
            s.data.endTimeUnixNano = max(timeUnixNano ?? wallClockUnixNano(), s.data.startTimeUnixNano)
            return isRecording ? s.data : nil
        }
        if let finished, context.isSampled { tracer?.processor.onEnd(finished) }
    }

    /// A snapshot of what has been recorded so far.
    public var snapshot: SpanData { state.withLock { $0.data } }

    /// True when `attributes` can be stored unchanged: within the count, no truncation, unique keys.
    private static func fitsAsIs(_ attributes: [Attribute], _ limits: SpanLimits) -> Bool {
        guard attributes.count <= limits.attributeCount, limits.attributeValueLength == nil else { return false }
        // Pairwise on UTF-8 lengths kept on the stack; only keys of equal length are compared.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: attributes.count) { lengths in
            for i in attributes.indices {
                let length = attributes[i].key.utf8.count
                for j in 0..<i where lengths[j] == length && attributes[j].key == attributes[i].key { return false }
                lengths[i] = length
            }
            return true
        }
    }

    private static func set(_ key: String, _ value: AttributeValue, in data: inout SpanData, limits: SpanLimits) {
        let value = truncated(value, limits.attributeValueLength)
        if let i = data.attributes.firstIndex(where: { $0.key == key }) {
            data.attributes[i].value = value
        } else if data.attributes.count < limits.attributeCount {
            data.attributes.append(Attribute(key, value))
        } else {
            data.droppedAttributesCount += 1
        }
    }

    private static func add(_ link: SpanLink, to data: inout SpanData, limits: SpanLimits) {
        guard data.links.count < limits.linkCount else {
            data.droppedLinksCount += 1
            return
        }
        var link = link
        let kept = Array(link.attributes.prefix(limits.attributesPerLink)).map { truncated($0, limits) }
        link.droppedAttributesCount += link.attributes.count - kept.count
        link.attributes = kept
        data.links.append(link)
    }

    private static func truncated(_ attribute: Attribute, _ limits: SpanLimits) -> Attribute {
        Attribute(attribute.key, truncated(attribute.value, limits.attributeValueLength))
    }

    static func truncated(_ value: AttributeValue, _ limit: Int?) -> AttributeValue {
        guard let limit else { return value }
        switch value {
        case .string(let s) where s.count > limit: return .string(String(s.prefix(limit)))
        case .bytes(let b) where b.count > limit: return .bytes(Array(b.prefix(limit)))
        case .array(let values): return .array(values.map { truncated($0, limit) })
        case .map(let entries): return .map(entries.map { Attribute($0.key, truncated($0.value, limit)) })
        default: return value
        }
    }
}

extension Span {
    /// The span of the current task, set by `Tracer.withSpan`.
    @TaskLocal public static var current: Span?
}
