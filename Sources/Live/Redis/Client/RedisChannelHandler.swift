import CHiredis
import NIOCore

/// Commands for one caller, sent back to back, and the promise their replies complete (nil: nobody
/// waits for them).
struct RedisRequest: Sendable {
    let commands: [[String]]
    let promise: EventLoopPromise<[RedisReply]>?
}

/// hiredis's protocol layer on a NIO channel: commands are formatted by `redisFormatCommandArgv`,
/// replies parsed by hiredis's reader, and each caller's replies handed over in order. Everything
/// runs on the channel's event loop, so neither the reader nor the queue needs a lock. A request
/// that waits longer than `timeout` for its replies breaks the connection (every waiting caller hears
/// it, as with a blocking read's time-out): a Redis that stops answering is an error, not a hang.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    struct Waiting {
        let count: Int
        var replies: [RedisReply]
        let promise: EventLoopPromise<[RedisReply]>?
        let since: NIODeadline
    }

    private var waiting = CircularBuffer<Waiting>()
    private var reader: UnsafeMutablePointer<redisReader>?
    private var watchdog: RepeatedTask?
    private let timeout: TimeAmount
    private let endpoint: String

    init(timeout: TimeAmount, endpoint: String) {
        self.timeout = timeout
        self.endpoint = endpoint
    }

    func handlerAdded(context: ChannelHandlerContext) {
        reader = redisReaderCreate()
        let check = min(timeout, .milliseconds(250))
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        watchdog = context.eventLoop.scheduleRepeatedTask(initialDelay: check, delay: check) { _ in
            loopBound.value.checkTimeout(context: contextBound.value)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        watchdog?.cancel()
        failAll(RedisError(.io, "the connection to Redis at \(endpoint) closed"))
        if let reader { redisReaderFree(reader) }
        reader = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands {
            var formatted: UnsafeMutablePointer<CChar>?
            let length = RedisConnection.withArgv(command) { argc, argv, lengths in redisFormatCommandArgv(&formatted, argc, argv, lengths) }
            guard length >= 0, let formatted else {
                let error = RedisError(.protocolError, "cannot format the command \(command.first ?? "")")
                request.promise?.fail(error)
                promise?.fail(error)
                return
            }
            buffer.writeBytes(UnsafeRawBufferPointer(start: formatted, count: Int(length)))
            redisFreeCommand(formatted)
        }
        waiting.append(Waiting(count: request.commands.count, replies: [], promise: request.promise, since: .now()))
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let reader else { return }
        buffer.withUnsafeReadableBytes { bytes in
            _ = redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                return breakConnection(context: context, RedisError(.protocolError, "Redis at \(endpoint) sent a reply hiredis cannot parse"))
            }
            guard let raw else { return }
            let reply = RedisReply(raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            guard !waiting.isEmpty else {
                return breakConnection(context: context, RedisError(.protocolError, "Redis at \(endpoint) sent a reply nobody asked for"))
            }
            waiting[waiting.startIndex].replies.append(reply)
            if waiting[waiting.startIndex].replies.count == waiting[waiting.startIndex].count {
                let done = waiting.removeFirst()
                done.promise?.succeed(done.replies)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError(.io, "the connection to Redis at \(endpoint) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        breakConnection(context: context, RedisError(.io, "Redis at \(endpoint): \(error)"))
    }

    private func checkTimeout(context: ChannelHandlerContext) {
        guard let oldest = waiting.first, NIODeadline.now() - oldest.since > timeout else { return }
        breakConnection(context: context, RedisError(.io, "Redis at \(endpoint) did not answer within \(timeout.nanoseconds / 1_000_000) ms"))
    }

    private func breakConnection(context: ChannelHandlerContext, _ error: RedisError) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        while let next = waiting.popFirst() { next.promise?.fail(error) }
    }
}
