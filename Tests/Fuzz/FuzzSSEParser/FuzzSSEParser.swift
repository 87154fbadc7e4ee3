import FuzzSupport
import ProbeLogic

/// SSEParser against a plain reading of the WHATWG rules over the whole stream, fed in chunks the
/// fuzzer chooses. Input: a length byte and that many chunk-size bytes, then the stream.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSEParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let chunkSizes = input.bytes(upTo: 16).map { 1 + Int($0) % 64 }
    let stream = input.rest()

    var whole = SSEParser()
    let expected = whole.feed(stream)
    require(expected == ReferenceSSE.events(stream), "parser \(expected) != reference \(ReferenceSSE.events(stream))")

    var chunked = SSEParser()
    var events: [SSEEvent] = []
    var offset = 0, i = 0
    while offset < stream.count {
        let n = chunkSizes.isEmpty ? 1 : chunkSizes[i % chunkSizes.count]
        events += chunked.feed(stream[offset..<min(offset + n, stream.count)])
        offset += n
        i += 1
    }
    require(events == expected, "chunked \(events) != whole \(expected)")

    for event in events {
        require(!event.data.isEmpty, "empty data dispatched")
        let lineBreaks: Set<Unicode.Scalar> = ["\r", "\n"]
        require(!(event.event + (event.id ?? "")).unicodeScalars.contains(where: lineBreaks.contains),
                "line break in event type or id: \(event)")
        require(!event.data.unicodeScalars.contains("\r"), "CR in data: \(shown(event.data))")
    }
    return 0
}

/// The WHATWG event-stream interpretation, written for clarity, not speed: split the whole stream
/// into lines (CRLF, LF or CR), drop the unterminated tail, process each line.
enum ReferenceSSE {
    static func events(_ stream: [UInt8]) -> [SSEEvent] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var i = 0
        while i < stream.count {
            let b = stream[i]
            if b == 0x0D || b == 0x0A {
                lines.append(current)
                current = []
                if b == 0x0D, i + 1 < stream.count, stream[i + 1] == 0x0A { i += 1 }
            } else {
                current.append(b)
            }
            i += 1
        }
        var events: [SSEEvent] = []
        var eventType = "", dataLines: [String] = [], lastID: String?
        for line in lines {
            if line.isEmpty {
                let data = dataLines.joined(separator: "\n")
                if !data.isEmpty { events.append(SSEEvent(event: eventType.isEmpty ? "message" : eventType, data: data, id: lastID)) }
                eventType = ""
                dataLines = []
                continue
            }
            if line[0] == UInt8(ascii: ":") { continue }
            let colon = line.firstIndex(of: UInt8(ascii: ":"))
            let name = String(decoding: line[..<(colon ?? line.count)], as: UTF8.self)
            var value = colon.map { Array(line[($0 + 1)...]) } ?? []
            if value.first == UInt8(ascii: " ") { value.removeFirst() }
            switch name {
            case "event": eventType = String(decoding: value, as: UTF8.self)
            case "data": dataLines.append(String(decoding: value, as: UTF8.self))
            case "id": if !value.contains(0) { lastID = String(decoding: value, as: UTF8.self) }
            default: break
            }
        }
        return events
    }
}
