import CCrypt
import Foundation
import NIOSSL
import Synchronization

/// Who may read the admin endpoints, as Prometheus' exporter-toolkit web config has it: `tls`
/// (`admin.tls`: HTTPS, and with a client CA only clients with a certificate it signed; every
/// listener the agent opens for the endpoints, a reload's too, starts with it) and HTTP Basic with
/// bcrypt-hashed passwords (`admin.basic_auth_users`). `/healthz` and `/readyz` need no password,
/// for the orchestrator's probes. With no users configured every path is open.
final class AdminAccess: Sendable {
    let tls: NIOSSLContext?

    static let openPaths: Set<String> = ["/healthz", "/readyz"]
    /// How many verified credentials are remembered: bcrypt is meant to be slow (tens of ms at
    /// cost 10), a page that refreshes every few seconds should not pay it each time.
    static let verifiedCacheSize = 64

    private struct State {
        var users: [String: String]
        var verified: Set<String> = []
    }

    private let state: Mutex<State>

    init(users: [String: String] = [:], tls: NIOSSLContext? = nil) {
        state = Mutex(State(users: users))
        self.tls = tls
    }

    /// A reload's users; what was verified against the old hashes is forgotten.
    func update(users: [String: String]) {
        state.withLock { s in
            guard s.users != users else { return }
            s = State(users: users)
        }
    }

    /// Whether a request for `path` with this `Authorization` header value may be answered.
    func allows(path: String, authorization: String?) -> Bool {
        let users = state.withLock { $0.users }
        guard !users.isEmpty, !Self.openPaths.contains(path) else { return true }
        guard let (user, password) = authorization.flatMap(Self.basicCredentials) else { return false }
        // An unknown user is checked against a hash all the same, so timing tells no user names.
        let hash = users[user] ?? Self.unknownUserHash
        let key = "\(user)\u{0}\(hash)\u{0}\(password)"
        if state.withLock({ $0.verified.contains(key) }) { return users[user] != nil }
        guard BcryptHash.verify(password: password, hash: hash), users[user] != nil else { return false }
        state.withLock { s in
            if s.verified.count >= Self.verifiedCacheSize { s.verified.removeAll() }
            s.verified.insert(key)
        }
        return true
    }

    /// `Basic base64(user:password)`; nil when it is not that.
    static func basicCredentials(_ header: String) -> (user: String, password: String)? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// A valid hash of no password anyone knows (bcrypt of 24 random bytes, cost 10), for unknown users.
    private static let unknownUserHash = "$2y$10$Ay3jbKeXGfgbIVeHZ7yIjO54vAgRIu4yMyBQnR9klDz2RPzqICY3S"
}

/// bcrypt through libxcrypt's `crypt_r` (glibc systems: Debian's libcrypt1), which knows
/// `$2a$`, `$2b$` and `$2y$`.
enum BcryptHash {
    /// `$2a$`/`$2b$`/`$2y$`, a two-digit cost from 04 to 31, `$`, 53 characters of bcrypt's base64.
    static func isWellFormed(_ hash: String) -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
              "aby".utf8.contains(bytes[2]), bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
              let cost = Int(String(decoding: bytes[4...5], as: UTF8.self)), (4...31).contains(cost) else { return false }
        let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return bytes[7...].allSatisfy(alphabet.contains)
    }

    static func verify(password: String, hash: String) -> Bool {
        guard isWellFormed(hash), !password.utf8.contains(0) else { return false }
        let size = pa_crypt_data_size()
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { data.deallocate() }
        data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        guard let result = crypt_r(password, hash, data.assumingMemoryBound(to: crypt_data.self)) else { return false }
        return constantTimeEqual(Array(String(cString: result).utf8), Array(hash.utf8))
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
