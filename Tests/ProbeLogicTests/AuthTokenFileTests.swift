import Foundation
import Synchronization
@testable import ProbeLogic
import XCTest

final class AuthTokenFileTests: XCTestCase {
    func testReadFailuresNameTheCauseNotTheContent() throws {
        let dir = try temporaryDirectory(self)
        XCTAssertEqual(StoredTokenFile.read(dir.path).failureText, "token file \(dir.path) is a directory, not a regular file")
        let huge = dir.appendingPathComponent("huge").path
        try String(repeating: "x", count: StoredTokenFile.maxBytes + 1).write(toFile: huge, atomically: true, encoding: .utf8)
        XCTAssertEqual(StoredTokenFile.read(huge).failureText, "token file \(huge) is neither token JSON nor a bare token")
        let secret = dir.appendingPathComponent("secret").path
        try "has-a secret-value".write(toFile: secret, atomically: true, encoding: .utf8)
        XCTAssertFalse(StoredTokenFile.read(secret).failureText?.contains("secret-value") ?? true)
    }

    /// The token file is read on the probe thread at every probe: a FIFO must not block it (nor a
    /// device such as /dev/zero feed it forever).
    func testAFIFOOrADeviceIsRefusedWithoutBlocking() throws {
        let fifo = try temporaryDirectory(self).appendingPathComponent("token.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<String?>(nil)
        Thread.detachNewThread {
            result.withLock { $0 = StoredTokenFile.read(fifo).failureText }
            done.signal()
        }
        if done.wait(timeout: .now() + 2) == .timedOut {
            XCTFail("reading a FIFO token file blocked")
            close(open(fifo, O_WRONLY | O_NONBLOCK))  // a writer's open releases the blocked reader
            _ = done.wait(timeout: .now() + 2)
            return
        }
        XCTAssertEqual(result.withLock { $0 }, "token file \(fifo) is a FIFO, not a regular file")
        XCTAssertEqual(StoredTokenFile.read("/dev/zero").failureText, "token file /dev/zero is a device, not a regular file")
    }

    func testWriteThroughSymlinkKeepsTheLink() throws {
        let dir = try temporaryDirectory(self)
        let real = dir.appendingPathComponent("real.token").path
        let link = dir.appendingPathComponent("link.token").path
        try "old".write(toFile: real, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let token = OAuthToken(accessToken: Secret("new"), refreshToken: Secret("r"), expiresAt: Date(timeIntervalSince1970: 2_000_000_000))
        XCTAssertNoThrow(try StoredTokenFile.write(token, to: link).get())
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), real)
        XCTAssertEqual(try StoredTokenFile.read(link).get(), token)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: real)[.posixPermissions] as? Int, 0o600)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)), ["real.token", "link.token"])
    }

    func testWriteIntoMissingDirectoryFailsCleanly() {
        let path = "/nonexistent-dir-\(UUID().uuidString)/t.token"
        let result = StoredTokenFile.write(OAuthToken(accessToken: Secret("tok-Zz9")), to: path)
        XCTAssertEqual(result.failureText, "token file \(path) not written (create: No such file or directory)")
    }

    func testPrintedCredentialsHideTheSecret() {
        let credentials = ResolvedCredentials(authorization: "Bearer tok-Zz9", probeType: .authenticated)
        XCTAssertEqual("\(credentials)", "ResolvedCredentials(authorization: Bearer <redacted>, probeType: authenticated, note: none, token: none)")
        XCTAssertFalse(String(reflecting: credentials).contains("tok-Zz9"))
        let unavailable = ResolvedCredentials(authorization: nil, probeType: .unauthenticatedLiveness, note: "why",
                                              token: .unavailable(reason: "http_500"))
        XCTAssertEqual("\(unavailable)",
                       "ResolvedCredentials(authorization: none, probeType: unauthenticated_liveness, note: why, token: unavailable(reason: \"http_500\"))")
    }
}

extension Result {
    var failureText: String? { if case .failure(let e) = self { "\(e)" } else { nil } }
}
