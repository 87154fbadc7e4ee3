public enum SpanKind: Int, Sendable {
    case unspecified = 0
    case `internal` = 1
    case server = 2
    case client = 3
    case producer = 4
    case consumer = 5
}

public struct SpanStatus: Sendable, Equatable {
    public enum Code: Int, Sendable {
        case unset = 0
        case ok = 1
        case error = 2
    }

    public var code: Code
    /// Only meaningful for `.error`.
    public var message: String

    public init(_ code: Code, message: String = "") {
        self.code = code
        self.message = code == .error ? message : ""
    }

    public static let unset = SpanStatus(.unset)
    public static let ok = SpanStatus(.ok)
    public static func error(_ message: String) -> SpanStatus { SpanStatus(.error, message: message) }
}

public struct SpanEvent: Sendable, Equatable {
    public var name: String
    public var timeUnixNano: UInt64
    public var attributes: [Attribute]
    public var droppedAttributesCount: Int

    public init(name: String, timeUnixNano: UInt64, attributes: [Attribute] = [], droppedAttributesCount: Int = 0) {
        self.name = name
        self.timeUnixNano = timeUnixNano
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }
}

public struct SpanLink: Sendable, Equatable {
    public var context: SpanContext
    public var attributes: [Attribute]
    public var droppedAttributesCount: Int

    public init(_ context: SpanContext, attributes: [Attribute] = [], droppedAttributesCount: Int = 0) {
        self.context = context
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }
}

public struct InstrumentationScope: Sendable, Hashable {
    public var name: String
    public var version: String

    public init(name: String, version: String = "") {
        self.name = name
        self.version = version
    }
}

public struct Resource: Sendable, Equatable {
    public var attributes: [Attribute]

    public init(attributes: [Attribute] = []) { self.attributes = attributes }
}

/// A finished span: an immutable value handed to processors and exporters.
public struct SpanData: Sendable, Equatable {
    public var context: SpanContext
    public var parentSpanID: SpanID?
    public var name: String
    public var kind: SpanKind
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    public var attributes: [Attribute]
    public var droppedAttributesCount: Int
    public var events: [SpanEvent]
    public var droppedEventsCount: Int
    public var links: [SpanLink]
    public var droppedLinksCount: Int
    public var status: SpanStatus
    public var scope: InstrumentationScope
    /// Whether the parent was a remote context, when there is a parent (OTLP flags bits 8-9).
    public var parentIsRemote: Bool?

    public init(context: SpanContext, parentSpanID: SpanID? = nil, name: String, kind: SpanKind = .internal,
                startTimeUnixNano: UInt64, endTimeUnixNano: UInt64, attributes: [Attribute] = [],
                droppedAttributesCount: Int = 0, events: [SpanEvent] = [], droppedEventsCount: Int = 0,
                links: [SpanLink] = [], droppedLinksCount: Int = 0, status: SpanStatus = .unset,
                scope: InstrumentationScope, parentIsRemote: Bool? = nil) {
        self.context = context
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
        self.events = events
        self.droppedEventsCount = droppedEventsCount
        self.links = links
        self.droppedLinksCount = droppedLinksCount
        self.status = status
        self.scope = scope
        self.parentIsRemote = parentIsRemote
    }
}
