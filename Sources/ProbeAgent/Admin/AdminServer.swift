import FlyingFox
import FlyingSocks
import Foundation
import Synchronization

/// The admin HTTP endpoints (see `AdminHandler`) on FlyingFox. Connections are served on
/// FlyingFox's own epoll thread and tasks; handlers only read snapshots, so probing never waits on it.
actor AdminServer {
    let listen: ListenAddress
    private let routes: AdminRoutes
    private var running: (server: HTTPServer, task: Task<Void, Never>)?

    init(listen: ListenAddress, routes: AdminRoutes) {
        self.listen = listen
        self.routes = routes
    }

    /// Returns once the socket is listening; throws `AdminServerError` when it cannot be (port in use, bad address).
    func start() async throws {
        guard running == nil else { return }
        let address: any SocketAddress
        do {
            address = try ListenSocketAddress.resolve(listen)
        } catch {
            throw AdminServerError(address: listen, reason: "\(error)")
        }
        let server = HTTPServer(address: address, timeout: 15, logger: .disabled, handler: AdminHandler(routes: routes))
        let failure = Mutex<(any Error)?>(nil)
        let task = Task {
            do { try await server.run() } catch { failure.withLock { $0 = error } }
        }
        // FlyingFox offers no "listening or failed" signal: poll both, briefly.
        let deadline = ContinuousClock.now + .seconds(10)
        while await !server.isListening {
            if let error = failure.withLock({ $0 }) {
                throw AdminServerError(address: listen, reason: Self.reason(error))
            }
            guard ContinuousClock.now < deadline else {
                task.cancel()
                throw AdminServerError(address: listen, reason: "not listening after 10 s")
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        running = (server, task)
    }

    /// The port actually bound (differs from `listen.port` when that is 0); nil when not running.
    var boundPort: Int? {
        get async {
            guard let server = running?.server else { return nil }
            switch await server.listeningAddress {
            case .ip4(_, let port), .ip6(_, let port): return Int(port)
            default: return nil
            }
        }
    }

    func stop() async {
        guard let (server, task) = running else { return }
        running = nil
        // FlyingFox's socket pool runs until cancelled, so any grace period is always waited out in
        // full; the endpoints are read-only, so requests in flight are simply cut off.
        await server.stop(timeout: 0)
        task.cancel()
        await task.value
    }

    private static func reason(_ error: any Error) -> String {
        if case SocketError.failed(let type, let errno, let message) = error {
            return errno == EADDRINUSE ? "address already in use" : "\(type.lowercased()) failed: \(message)"
        }
        return "\(error)"
    }
}

struct AdminServerError: Error, CustomStringConvertible {
    var address: ListenAddress
    var reason: String
    var description: String { "admin.listen \(address): cannot listen: \(reason)" }
}

/// A `ListenAddress` as a socket address: IP literals as given, host names through the resolver.
enum ListenSocketAddress {
    struct Unresolvable: Error, CustomStringConvertible {
        var description: String
    }

    static func resolve(_ listen: ListenAddress) throws -> any SocketAddress {
        guard let port = UInt16(exactly: listen.port) else { throw Unresolvable(description: "port out of range") }
        if let address = try? sockaddr_in.inet(ip4: listen.host, port: port) { return address }
        if let address = try? sockaddr_in6.inet6(ip6: listen.host, port: port) { return address }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(listen.host, nil, &hints, &list)
        guard status == 0, let list else {
            throw Unresolvable(description: "cannot resolve \(listen.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let info = entry?.pointee {
            if info.ai_family == AF_INET, var address = info.ai_addr?.withMemoryRebound(to: sockaddr_in.self, capacity: 1, \.pointee) {
                address.sin_port = port.bigEndian
                return address
            }
            if info.ai_family == AF_INET6, var address = info.ai_addr?.withMemoryRebound(to: sockaddr_in6.self, capacity: 1, \.pointee) {
                address.sin6_port = port.bigEndian
                return address
            }
            entry = info.ai_next
        }
        throw Unresolvable(description: "\(listen.host) has no IPv4 or IPv6 address")
    }
}
