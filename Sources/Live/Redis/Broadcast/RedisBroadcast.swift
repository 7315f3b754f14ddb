public import Domain
import Foundation
import NIOCore
import NIOPosix
import Synchronization
public import Logging
public import ServiceLifecycle
public import LiveRuntime

/// The live server's event publisher: every recorded batch is `PUBLISH`ed on the Redis channel
/// `fd:events` as change notices (`EventHub.Change`: a line per event naming its stream and deal;
/// subscriptions answer with the current state, so the events themselves need not travel), for
/// every replica's `RedisBroadcastListener`. Pub/sub is fire-and-forget, which suits subscriptions
/// (they show the latest state; the request does not wait for the PUBLISH); the durable path is the
/// outbox. The notices recorded during one turn of an event loop go out as one `PUBLISH` (at a
/// thousand orders a second that is one message for several orders, for Redis and for every
/// listener), sent when the turn's other work is done.
public struct RedisBroadcast: EventPublisher {
    let pending: NoticeBatch

    public init(pool: RedisPool, prefix: String = "fd") {
        let channel = "\(prefix):events"
        pending = NoticeBatch { lines in pool.sendWithoutReply([["PUBLISH", channel, lines.joined(separator: "\n")]]) }
    }

    public func publish(_ events: [EventEnvelope]) async throws {
        guard !events.isEmpty else { return }
        pending.add(events.map { EventHub.Change($0).line })
    }
}

/// Lines gathered until the current event loop's turn ends (or, off an event loop, the next turn
/// of one), then handed to `send` at once, in the order they were added.
final class NoticeBatch: Sendable {
    private let lines = Mutex<[String]?>(nil)
    private let send: @Sendable ([String]) -> Void

    init(send: @escaping @Sendable ([String]) -> Void) {
        self.send = send
    }

    func add(_ new: [String]) {
        let first: Bool = lines.withLock { pending in
            guard pending != nil else {
                pending = new
                return true
            }
            pending!.append(contentsOf: new)
            return false
        }
        guard first else { return }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
        loop.execute { [self] in
            if let batch = lines.withLock({ pending in defer { pending = nil }; return pending }) { send(batch) }
        }
    }
}

/// Subscribes to `fd:events` on a connection of its own and hands every batch to this replica's
/// hub. The blocking read runs on its own thread; it waits at most `wake` at a time for a message,
/// to notice shutdown, and stays subscribed between waits (only a broken link makes it subscribe
/// afresh), so nothing published while it is idle is lost.
public struct RedisBroadcastListener: Service {
    let url: String
    let channel: String
    let hub: EventHub
    let logger: Logger
    let wake: Duration

    public init(url: String, prefix: String = "fd", hub: EventHub, logger: Logger, wake: Duration = .seconds(1)) {
        self.url = url
        channel = "\(prefix):events"
        self.hub = hub
        self.logger = logger
        self.wake = wake
    }

    public func run() async throws {
        let endpoint = try RedisEndpoint(url: url)
        let stop = StopFlag()
        let (batches, continuation) = AsyncStream<String>.makeStream()
        let thread = Thread { [channel, wake, logger] in
            var connection: RedisConnection?
            while !stop.isSet {
                do {
                    if connection == nil {
                        connection = try RedisConnection(endpoint, timeout: .seconds(5))
                        _ = try connection!.send(["SUBSCRIBE", channel])
                    }
                    guard let message = try connection!.awaitReply(within: wake)?.array else { continue }
                    guard message.count == 3, message[0].string == "message", let text = message[2].string else { continue }
                    continuation.yield(text)
                } catch let error as RedisError where error.kind == .io {
                    connection = nil  // the link broke: subscribe afresh
                } catch {
                    logger.warning("Redis unreachable for the event broadcast", metadata: ["flashdeal.error": "\(error)"])
                    connection = nil
                    Thread.sleep(forTimeInterval: 0.2)
                }
            }
            continuation.finish()
        }
        thread.name = "flashdeal.redis.subscriber"
        thread.start()
        await withGracefulShutdownHandler {
            // Read only when this replica has subscribers.
            for await text in batches where await hub.subscriberCount > 0 {
                do {
                    await hub.notify(try text.split(separator: "\n").map { line throws(ValidationError) in try EventHub.Change(line: line) })
                } catch {
                    logger.warning("event broadcast unreadable", metadata: ["flashdeal.error": "\(error)"])
                }
            }
        } onGracefulShutdown: {
            stop.set()
        }
    }
}

/// A flag set once, read from another thread.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
