import NIOCore
import NIOHTTP1

/// The first handler of every admin connection, in front of the HTTP decoder. It counts the bytes
/// of each request head up to its empty line and refuses one over `AdminLimits.maxRequestHeadBytes`
/// (431) before anything buffers or parses it; it times requests (408) and idle kept-alive
/// connections (closed); and after any refusal it closes with a linger: output shut at once, the
/// rest of the request read and dropped, the socket closed when the peer does or the linger ends.
final class AdminConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// Sent down the pipeline by the handler behind the decoder once a response is written.
    enum Event {
        case responded(close: Bool)
    }

    private var headBytes = 0
    /// No byte but CR since the last LF: the next LF ends the head. A bare-LF ending the decoder
    /// rejects counts here too, so this never sees a head end the decoder does not (400 then).
    private var lineIsEmpty = true
    /// Bytes of a request have arrived that are not answered yet.
    private var inRequest = false
    private var closing = false
    private var timer: Scheduled<Void>?

    func channelActive(context: ChannelHandlerContext) {
        startIdleTimer(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var buffer = unwrapInboundIn(data)
        if !inRequest {
            inRequest = true
            startRequestTimer(context)
        }
        guard let overflow = countHeadBytes(buffer) else {
            context.fireChannelRead(data)
            return
        }
        // What came before the overflow goes on: a body over its own cap is refused (413) there first.
        if overflow > 0, let before = buffer.readSlice(length: overflow) {
            context.fireChannelRead(wrapInboundOut(before))
        }
        if !closing { refuse(context, .requestHeaderFieldsTooLarge, "request header fields too large\n") }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard case .responded(let close)? = event as? Event else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        promise?.succeed()
        guard !closing else { return }  // answered after a refusal (408): the linger stands
        if close {
            linger(context)
        } else if headBytes > 0 {
            startRequestTimer(context)  // the next request has begun (pipelined): its own read time
        } else {
            inRequest = false
            startIdleTimer(context)
        }
    }

    /// Adds `buffer` to the head count; the offset where the head passes the limit, or nil.
    /// Bytes after a head's end count toward the next head: a body (which the endpoints do not take)
    /// is either refused or followed by the connection's close, so it never hides a head.
    private func countHeadBytes(_ buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            for (offset, byte) in bytes.enumerated() {
                headBytes += 1
                if headBytes > AdminLimits.maxRequestHeadBytes { return offset }
                switch byte {
                case UInt8(ascii: "\n"):
                    if lineIsEmpty { headBytes = 0 }
                    lineIsEmpty = true
                case UInt8(ascii: "\r"):
                    break
                default:
                    lineIsEmpty = false
                }
            }
            return nil
        }
    }

    /// Answers `status` itself (in front of the encoder) and closes.
    private func refuse(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ text: String) {
        guard !closing else { return }
        let head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(text.utf8.count)\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(string: head + text))), promise: nil)
        linger(context)
    }

    private func linger(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        context.close(mode: .output, promise: nil)  // after the writes before it
        schedule(context, after: AdminLimits.lingerTimeout) { $0.close(promise: nil) }
    }

    private func startRequestTimer(_ context: ChannelHandlerContext) {
        schedule(context, after: AdminLimits.requestReadTimeout) { [weak self] context in
            self?.refuse(context, .requestTimeout, "request not received in time\n")
        }
    }

    private func startIdleTimer(_ context: ChannelHandlerContext) {
        schedule(context, after: AdminLimits.idleTimeout) { $0.close(promise: nil) }
    }

    /// The connection's one timer: a new one replaces the last.
    private func schedule(_ context: ChannelHandlerContext, after delay: TimeAmount,
                          _ action: @escaping (ChannelHandlerContext) -> Void) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { action(context) }
    }
}
