import Foundation
import FuzzSupport
@testable import ProbeLogic

/// JSON-RPC reply parsing on any bytes: it never traps, every error code has a description, and a reply
/// is taken as the answer to our request only when its id is our id (the JSON number or its string),
/// checked here with a strict decoder of its own.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONRPCReply(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let bytes = input.rest()
    let reply = JSONRPCReply.parse(bytes)
    require(reply == JSONRPCReply.parse(bytes), "parse is not deterministic")
    switch reply {
    case .initializeResult(let facts):
        require(!facts.protocolVersion.isEmpty, "empty protocolVersion accepted")
        require(facts.capabilities == facts.capabilities.sorted(), "capabilities not sorted")
        require(StrictID.of(bytes) == .matches, "initializeResult for a reply whose id is not 1: \(shown(String(decoding: bytes, as: UTF8.self)))")
    case .invalidResult:
        require(StrictID.of(bytes) == .matches, "invalidResult for a reply whose id is not 1: \(shown(String(decoding: bytes, as: UTF8.self)))")
    case .error(let code):
        require(!JSONRPCErrorCode.describe(code).isEmpty, "no description for JSON-RPC error \(code)")
    case .idMismatch:
        require(StrictID.of(bytes) == .differs, "idMismatch for a reply whose id is ours: \(shown(String(decoding: bytes, as: UTF8.self)))")
    case .notJSONRPC:
        break
    }
    let text = String(decoding: bytes, as: UTF8.self)
    let isResponse = JSONRPCReply.isResponse(text)
    require(isResponse == JSONRPCReply.isResponse(text), "isResponse is not deterministic")
    return 0
}

/// Whether a JSON object's `id` is exactly our request id: the integer 1 or the string "1"
/// (`true`, `1.5`, `"01"` or 2^64+1 are other ids). Judged on the id written back as JSON text.
enum StrictID: Equatable {
    case matches, differs

    static func of(_ bytes: [UInt8]) -> StrictID {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], let id = object["id"],
              let text = try? JSONSerialization.data(withJSONObject: [id]) else { return .differs }
        let ours = MCPMessages.initializeID
        return ["[\(ours)]", "[\(ours).0]", "[\"\(ours)\"]"].contains(String(decoding: text, as: UTF8.self)) ? .matches : .differs
    }
}
