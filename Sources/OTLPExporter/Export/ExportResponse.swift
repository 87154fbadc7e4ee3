import Foundation

/// `Export*ServiceResponse.partial_success`: same shape for traces (rejected_spans) and metrics
/// (rejected_data_points).
package struct PartialSuccess: Sendable, Equatable {
    package var rejected: Int64
    package var errorMessage: String

    package init(rejected: Int64, errorMessage: String) {
        self.rejected = rejected
        self.errorMessage = errorMessage
    }
}

/// Decodes response bodies by their Content-Type: protobuf unless it says JSON.
package enum ExportResponseDecoder {
    static func isJSON(_ contentType: String?) -> Bool {
        contentType?.lowercased().contains("json") == true
    }

    /// nil when the body is empty, partial_success is unset, or it carries neither a count nor a
    /// message ("equivalent to it not being set").
    package static func partialSuccess(body: [UInt8], contentType: String?) throws -> PartialSuccess? {
        guard !body.isEmpty else { return nil }
        let result = isJSON(contentType) ? try jsonPartialSuccess(body) : try protobufPartialSuccess(body)
        guard let result, result.rejected != 0 || !result.errorMessage.isEmpty else { return nil }
        return result
    }

    /// `google.rpc.Status.message` of an error body, if any.
    package static func statusMessage(body: [UInt8], contentType: String?) -> String? {
        guard !body.isEmpty else { return nil }
        if isJSON(contentType) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
            return (object["message"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        }
        var reader = ProtobufReader(body)
        var message: String?
        while let (field, value) = try? reader.next() {
            if field == 2, let text = value.string { message = text }
        }
        return message.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func protobufPartialSuccess(_ body: [UInt8]) throws -> PartialSuccess? {
        var reader = ProtobufReader(body)
        var result: PartialSuccess?
        while let (field, value) = try reader.next() {
            guard field == 1, var inner = value.message else { continue }
            var partial = result ?? PartialSuccess(rejected: 0, errorMessage: "")
            while let (f, v) = try inner.next() {
                if f == 1, let n = v.uint64 { partial.rejected = Int64(bitPattern: n) }
                if f == 2, let s = v.string { partial.errorMessage = s }
            }
            result = partial
        }
        return result
    }

    static func jsonPartialSuccess(_ body: [UInt8]) throws -> PartialSuccess? {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ProtobufDecodingError("response is not a JSON object")
        }
        guard let partial = (object["partialSuccess"] ?? object["partial_success"]) as? [String: Any] else { return nil }
        let keys = ["rejectedSpans", "rejectedDataPoints", "rejected_spans", "rejected_data_points"]
        let raw = keys.lazy.compactMap { partial[$0] }.first
        let rejected: Int64
        switch raw {
        case let s as String: rejected = Int64(s) ?? 0
        case let n as NSNumber: rejected = n.int64Value
        default: rejected = 0
        }
        let message = (partial["errorMessage"] ?? partial["error_message"]) as? String ?? ""
        return PartialSuccess(rejected: rejected, errorMessage: message)
    }
}
