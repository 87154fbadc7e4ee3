public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Ordered header list; lookups ignore ASCII case, as HTTP field names do.
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    private var storage: [HTTPHeader]

    public init(_ headers: [HTTPHeader] = []) { storage = headers }

    /// The first value under `name`.
    public subscript(name: String) -> String? {
        storage.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
    }

    public func values(_ name: String) -> [String] {
        storage.filter { asciiCaseInsensitiveEquals($0.name, name) }.map(\.value)
    }

    public mutating func add(_ name: String, _ value: String) { storage.append(HTTPHeader(name, value)) }

    public var isEmpty: Bool { storage.isEmpty }
    public var count: Int { storage.count }

    public func makeIterator() -> IndexingIterator<[HTTPHeader]> { storage.makeIterator() }
}

func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            guard x.count == y.count else { return false }
            for i in 0..<x.count where x[i] != y[i] {
                guard x[i] | 0x20 == y[i] | 0x20, (0x61...0x7A).contains(x[i] | 0x20) else { return false }
            }
            return true
        }
    }
}


extension HTTPHeader {
    /// A field value as RFC 9110 allows it: no control character but tab. A CR or LF would split
    /// the request; checked by scalar (or byte), since "\r\n" is one Character. The one rule for
    /// requests, config headers and secrets, `check` flags and `OTEL_EXPORTER_OTLP_HEADERS`.
    public static func isFieldValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }
}
