import Foundation
import HTTPClient
import TestSupport
import XCTest

/// What the fixture's /echo route saw.
struct Echo: Decodable {
    var method: String
    var path: String
    var headers: [[String]]
    var body_hex: String
    var body_len: Int
    var body_crc32: UInt32
    var client_port: Int

    init(_ response: HTTPResponse) throws { self = try JSONDecoder().decode(Echo.self, from: Data(response.body)) }

    func header(_ name: String) -> String? { headers.first { $0[0].lowercased() == name.lowercased() }?[1] }
    var headerNames: [String] { headers.map { $0[0].lowercased() } }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// zlib's CRC-32, to compare large bodies with what the fixture received.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    let table: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~bytes.reduce(~UInt32(0)) { c, b in table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
}

/// Runs `body` and returns how long it took.
func elapsed(_ body: () async throws -> Void) async rethrows -> Duration {
    let start = ContinuousClock.now
    try await body()
    return ContinuousClock.now - start
}

extension HTTPClient {
    /// The error `execute` throws; fails the test when it returns a response instead.
    func failure(_ request: HTTPRequest, file: StaticString = #filePath, line: UInt = #line) async -> HTTPClientError? {
        do {
            let response = try await execute(request)
            XCTFail("expected an error, got status \(response.status)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }
}

extension SharedFixture where Value == FixtureServer {
    convenience init(args: [String] = ["{port}"]) {
        self.init(make: { try FixtureServer(script: "http_server.py", args: args) }, stop: { $0.stop() })
    }
}

/// Tests against the plain-HTTP fixture (one server per test class, started on first use) with a
/// fresh client per test.
class HTTPFixtureTestCase: XCTestCase {
    static let fixture = SharedFixture()
    var client: HTTPClient!
    var base = ""

    override class func tearDown() {
        fixture.stop()
        super.tearDown()
    }

    override func setUpWithError() throws {
        base = try Self.fixture.get().baseURL
        client = HTTPClient()
    }

    override func tearDown() {
        client.shutdown()
        client = nil
    }
}
