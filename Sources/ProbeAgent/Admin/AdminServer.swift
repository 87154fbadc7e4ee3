import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What an admin connection may cost (docs/operations.md, "The admin endpoints"). Requests over a
/// limit are answered at once and the connection closed.
enum AdminLimits {
    /// Request line and headers; more → 431, counted before the HTTP decoder buffers anything.
    static let maxRequestHeadBytes = 16 * 1024
    /// The endpoints take no body; a larger one (announced or sent) → 413.
    static let maxRequestBodyBytes = 1024
    /// Open connections; one more is closed as soon as it is accepted.
    static let maxConnections = 64
    /// From a request's first byte to its answer; a request still incomplete then → 408.
    static let requestReadTimeout: TimeAmount = .seconds(10)
    /// A kept-alive connection with no request for this long is closed.
    static let idleTimeout: TimeAmount = .seconds(10)
    /// After a refusal, how long the rest of the request is read and dropped before the connection
    /// is closed, so the answer is not lost to a reset (RFC 9112, 9.6).
    static let lingerTimeout: TimeAmount = .seconds(2)
}

/// The admin HTTP endpoints (see `AdminHTTPHandler`) on SwiftNIO, on an event loop of their own
/// (one thread): probes run on the HTTP client's loop thread and never share one with these requests.
actor AdminServer {
    let listen: ListenAddress
    private let routes: AdminRoutes
    private let counters = AdminServerCounters()
    private var running: (group: MultiThreadedEventLoopGroup, channel: any Channel)?

    init(listen: ListenAddress, routes: AdminRoutes) {
        self.listen = listen
        self.routes = routes
    }

    /// Returns once the socket is listening; throws `AdminServerError` when it cannot be (port in use, bad address).
    func start() async throws {
        guard running == nil else { return }
        let address: SocketAddress
        do {
            address = try ListenSocketAddress.resolve(listen)
        } catch {
            throw AdminServerError(address: listen, reason: "\(error)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (routes, counters) = (self.routes, self.counters)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // One loop thread: this check and the count it reads cannot race.
                guard counters.connections.load(ordering: .relaxed) < AdminLimits.maxConnections else {
                    return channel.eventLoop.makeFailedFuture(TooManyConnections())
                }
                counters.connections.add(1, ordering: .relaxed)
                channel.closeFuture.whenComplete { _ in counters.connections.subtract(1, ordering: .relaxed) }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.addHandlers(to: channel.pipeline.syncOperations, routes: routes, counters: counters)
                }
            }
        do {
            running = (group, try await bootstrap.bind(to: address).get())
        } catch {
            try? await group.shutdownGracefully()
            throw AdminServerError(address: listen, reason: Self.reason(error))
        }
    }

    /// Every admin connection's pipeline, in order; with `admin.tls` (`AdminAccess.tls`) the TLS
    /// handler goes first, before the guard.
    private static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, routes: AdminRoutes,
                                    counters: AdminServerCounters) throws {
        if let tls = routes.access.tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
        try pipeline.addHandler(AdminConnectionGuard())
        try pipeline.addHandler(HTTPResponseEncoder())
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try pipeline.addHandler(HTTPServerPipelineHandler())
        try pipeline.addHandler(HTTPServerProtocolErrorHandler())
        try pipeline.addHandler(AdminHTTPHandler(routes: routes, counters: counters))
    }

    /// The port actually bound (differs from `listen.port` when that is 0); nil when not running.
    var boundPort: Int? { running?.channel.localAddress?.port }

    /// Closes the listener and every connection. Answers still being computed get up to a second
    /// (the endpoints read snapshots), so none lands on a loop that is gone.
    func stop() async {
        guard let (group, channel) = running else { return }
        running = nil
        try? await channel.close()
        let deadline = ContinuousClock.now + .seconds(1)
        while counters.answersPending.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        try? await group.shutdownGracefully()
    }

    private struct TooManyConnections: Error {}

    private static func reason(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return error.errnoCode == EADDRINUSE ? "address already in use" : String(cString: strerror(error.errnoCode)).lowercased()
    }
}

/// Shared by the server and its connections; touched on the server's one loop thread (and read by `stop`).
final class AdminServerCounters: Sendable {
    let connections = Atomic<Int>(0)
    /// Requests whose answer is being computed off the loop.
    let answersPending = Atomic<Int>(0)
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

    static func resolve(_ listen: ListenAddress) throws -> SocketAddress {
        guard (0...65535).contains(listen.port) else { throw Unresolvable(description: "port out of range") }
        if let address = try? SocketAddress(ipAddress: listen.host, port: listen.port) { return address }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(listen.host, nil, &hints, &list)
        guard status == 0, let list else {
            throw Unresolvable(description: "cannot resolve \(listen.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let port = UInt16(listen.port).bigEndian
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let info = entry?.pointee {
            if info.ai_family == AF_INET, var address = info.ai_addr?.withMemoryRebound(to: sockaddr_in.self, capacity: 1, \.pointee) {
                address.sin_port = port
                return SocketAddress(address, host: listen.host)
            }
            if info.ai_family == AF_INET6, var address = info.ai_addr?.withMemoryRebound(to: sockaddr_in6.self, capacity: 1, \.pointee) {
                address.sin6_port = port
                return SocketAddress(address, host: listen.host)
            }
            entry = info.ai_next
        }
        throw Unresolvable(description: "\(listen.host) has no IPv4 or IPv6 address")
    }
}
