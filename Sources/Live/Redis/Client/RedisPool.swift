import Foundation
import LiveRuntime
import NIOCore
import NIOPosix
import Synchronization

/// Redis connections on NIO's event loops, shared by every caller: hiredis formats the commands
/// and parses the replies (`RedisChannelHandler`), the socket is non-blocking, and a caller on an
/// event loop uses a connection of that loop, so a request and its Redis round trips stay on one
/// thread. Commands from concurrent callers are pipelined on the connection as they come, and the
/// commands written during one turn of the event loop leave in one write (`RedisSlot.send`); one
/// caller's commands go out back to back, so a `MULTI … EXEC` in one `pipeline` call stays whole.
public final class RedisPool: Sendable {
    public struct Configuration: Sendable {
        /// `redis://host:port` (a path or database number after it is ignored).
        public var url: String
        /// Connections, spread over the event loops (at least one each is best).
        public var connections: Int
        /// The bound on connecting and on waiting for a reply.
        public var connectTimeout: Duration
        /// Replicas that must hold every write before a call returns (nil: the primary's word is
        /// enough). See ``ReplicaWait``.
        public var replicaWait: ReplicaWait?

        public init(url: String, connections: Int = 4, connectTimeout: Duration = .seconds(2), replicaWait: ReplicaWait? = nil) {
            self.url = url
            self.connections = connections
            self.connectTimeout = connectTimeout
            self.replicaWait = replicaWait
        }
    }

    /// Every command batch the pool sends ends with `WAIT replicas timeout` on the same connection,
    /// and the call fails unless that many replicas acknowledged every write the connection made
    /// so far: an order, payment or outbox entry is acknowledged to a buyer only once it would
    /// survive the primary's loss (a failover to one of those replicas). The write itself stays on
    /// the primary when too few acknowledge (Redis cannot undo it); the caller's error makes the
    /// client retry with its idempotency key, which finds it. A batch that wrote nothing waits for
    /// nothing new. Its price, one replication round trip per write, is measured in
    /// `docs/data/redis.md`.
    public struct ReplicaWait: Sendable, Hashable {
        public var replicas: Int
        public var timeout: Duration
        public init(replicas: Int, timeout: Duration) {
            self.replicas = replicas
            self.timeout = timeout
        }

        var command: [String] { ["WAIT", String(replicas), String(max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))] }
    }

    private let slots: [RedisSlot]
    private let next = Atomic<Int>(0)
    let replicaWait: ReplicaWait?
    /// Where the pool connects (spans name it).
    let endpoint: RedisEndpoint
    /// A Redis Cluster's primaries, when `url` names a node of one (nil: a standalone Redis).
    let cluster: RedisClusterConnections?
    /// Whether `url` named a node of a Redis Cluster.
    public var isCluster: Bool { cluster != nil }

    /// Connects every connection now: an unreachable Redis is an error naming it. A node of a
    /// Redis Cluster (`INFO cluster`: `cluster_enabled:1`) makes a cluster pool: its slot map from
    /// `CLUSTER SHARDS`, `configuration.connections` to each primary, every call routed to the
    /// primary of its keys' hash slot.
    public init(_ configuration: Configuration) async throws {
        let endpoint = try RedisEndpoint(url: configuration.url)
        self.endpoint = endpoint
        let group = MultiThreadedEventLoopGroup.singleton
        let timeout = TimeAmount(configuration.connectTimeout)
        replicaWait = configuration.replicaWait
        let slots = (0..<max(1, configuration.connections)).map { _ in RedisSlot(eventLoop: group.next(), endpoint: endpoint, timeout: timeout) }
        for slot in slots { _ = try await slot.channel() }
        self.slots = slots
        let info = try await slots[0].submit([["INFO", "cluster"]])[0].string ?? ""
        if info.contains("cluster_enabled:1") {
            let map = try RedisSlotMap(shards: try await slots[0].submit([["CLUSTER", "SHARDS"]])[0])
            cluster = RedisClusterConnections(map: map, seed: endpoint, connections: configuration.connections, timeout: timeout)
        } else {
            cluster = nil
        }
    }

    /// A connection of the caller's event loop if it runs on one, else the next in turn.
    func slot() -> RedisSlot { Self.pick(slots, turn: next.wrappingAdd(1, ordering: .relaxed).oldValue) }

    /// Of `slots`, one of the caller's event loop if it runs on one (from `turn` on), else the
    /// `turn`-th.
    static func pick(_ slots: [RedisSlot], turn: Int) -> RedisSlot {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop {
            for i in 0..<slots.count where slots[(turn + i) % slots.count].eventLoop === current {
                return slots[(turn + i) % slots.count]
            }
        }
        return slots[turn % slots.count]
    }

    /// One command.
    public func send(_ arguments: [String]) async throws -> RedisReply {
        try await pipeline([arguments])[0].unlessError()
    }

    /// Several commands back to back, in one round trip; each reply in its command's place
    /// (server errors as `.error` replies).
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        if let cluster { return try await cluster.submit(commands, wait: replicaWait) }
        return try await Self.acknowledged(commands, wait: replicaWait) { try await self.slot().submit($0) }
    }

    /// `commands` sent by `submit`, followed by `wait`'s `WAIT` when there is one, whose count
    /// must reach the replicas required; the commands' replies.
    static func acknowledged(
        _ commands: [[String]], wait: ReplicaWait?, submit: ([[String]]) async throws -> [RedisReply]
    ) async throws -> [RedisReply] {
        guard let wait else { return try await submit(commands) }
        var replies = try await submit(commands + [wait.command])
        let acknowledged = replies.removeLast()
        guard let count = acknowledged.integer, count >= wait.replicas else {
            throw RedisError(.replication, "written on the primary but held by \(acknowledged.integer.map(String.init) ?? "\(acknowledged)") of the \(wait.replicas) replicas required within \(wait.timeout)")
        }
        return replies
    }

    /// Writes `command` at once, in the batch the caller's event loop flushes at the end of its
    /// turn, when the caller runs on a loop whose connection is open (a standalone Redis, no
    /// replica wait); nil otherwise, for the caller to `send` it. No task is started and nothing
    /// is awaited until the reply is wanted: a read started this way leaves with whatever the
    /// request sends next (its rate-limit buckets, `ShopRouter`) instead of a job later.
    public func sendNow(_ command: [String]) -> RedisPendingReply? {
        guard cluster == nil, replicaWait == nil, let current = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        let slot = slot()
        guard slot.eventLoop === current, let channel = slot.connectedChannel else { return nil }
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        slot.send(RedisRequest(commands: [command], promise: promise), on: channel)
        return RedisPendingReply(replies: promise.futureResult)
    }

    /// Sends commands whose replies nobody waits for (a `PUBLISH` to subscribers, best effort): a
    /// failure is dropped.
    public func sendWithoutReply(_ commands: [[String]]) {
        guard !commands.isEmpty else { return }
        let slot = slot()
        if let channel = slot.connectedChannel {
            slot.send(RedisRequest(commands: commands, promise: nil), on: channel)
        } else {
            Task(executorPreference: ServerTasks.executor) { _ = try? await slot.submit(commands) }
        }
    }
}

/// The reply to a command ``RedisPool/sendNow(_:)`` wrote.
public struct RedisPendingReply: Sendable {
    let replies: EventLoopFuture<[RedisReply]>

    /// What `RedisPool.send` would have returned (a server error thrown).
    public func reply() async throws -> RedisReply {
        try await replies.get()[0].unlessError()
    }
}

/// One connection of the pool, bound to an event loop, connected again after it broke.
final class RedisSlot: Sendable {
    enum State: Sendable {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
    }

    let eventLoop: any EventLoop
    let host: String
    let port: Int
    /// `AUTH`, sent first on every new connection (nil: none).
    let login: [String]?
    let timeout: TimeAmount
    private let state = Mutex(State.idle)
    /// A flush is queued on the event loop (see `send`).
    private let flushQueued = Atomic<Bool>(false)

    init(eventLoop: any EventLoop, endpoint: RedisEndpoint, timeout: TimeAmount) {
        self.eventLoop = eventLoop
        host = endpoint.host
        port = endpoint.port
        login = endpoint.login
        self.timeout = timeout
    }

    deinit {
        if case .connected(let channel) = state.withLock({ $0 }) { channel.close(promise: nil) }
    }

    /// The channel if it is connected and open.
    var connectedChannel: (any Channel)? {
        state.withLock { s in
            if case .connected(let channel) = s, channel.isActive { return channel }
            return nil
        }
    }

    func submit(_ commands: [[String]]) async throws -> [RedisReply] {
        let channel = try await self.channel()
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        send(RedisRequest(commands: commands, promise: promise), on: channel)
        return try await promise.futureResult.get()
    }

    /// Writes `request`. On the channel's event loop the flush waits for the end of the loop's
    /// current turn (one queued task flushes whatever the requests run in between wrote): under load
    /// the commands of many requests leave in one system call instead of one each. From another
    /// thread the write is flushed at once.
    func send(_ request: RedisRequest, on channel: any Channel) {
        let written: EventLoopFuture<Void>
        if channel.eventLoop.inEventLoop {
            written = channel.write(request)
            if !flushQueued.exchange(true, ordering: .acquiringAndReleasing) {
                channel.eventLoop.execute { [self] in
                    flushQueued.store(false, ordering: .releasing)
                    channel.flush()
                }
            }
        } else {
            written = channel.writeAndFlush(request)
        }
        guard let promise = request.promise else { return }
        written.whenFailure { error in
            promise.fail(RedisError(.io, "cannot write to Redis at \(self.host):\(self.port): \(error)"))
        }
    }

    /// The open channel, connecting (again) if there is none.
    func channel() async throws -> any Channel {
        if let channel = connectedChannel { return channel }
        let future: EventLoopFuture<any Channel> = state.withLock { s in
            if case .connecting(let future) = s { return future }
            let future = connect()
            s = .connecting(future)
            return future
        }
        do {
            let channel = try await future.get()
            state.withLock { s in
                if case .connecting(let pending) = s, pending === future { s = .connected(channel) }
            }
            return channel
        } catch {
            state.withLock { s in
                if case .connecting(let pending) = s, pending === future { s = .idle }
            }
            throw RedisError(.connect, "cannot connect to Redis at \(host):\(port): \(error)")
        }
    }

    private func connect() -> EventLoopFuture<any Channel> {
        let timeout = timeout, endpoint = "\(host):\(port)"
        let connected = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler(timeout: timeout, endpoint: endpoint))
                }
            }
            .connect(host: host, port: port)
        guard let login else { return connected }
        // Logged in before anyone else may use it: callers wait on this future.
        return connected.flatMap { channel in
            let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
            channel.writeAndFlush(RedisRequest(commands: [login], promise: promise), promise: nil)
            return promise.futureResult.flatMapThrowing { replies in
                if case .error(let message)? = replies.first {
                    channel.close(promise: nil)
                    throw RedisEndpoint.refused(message, at: endpoint)
                }
                return channel
            }
        }
    }
}

/// A Lua script loaded once (SCRIPT LOAD) and run by its digest (EVALSHA), loaded again if the
/// server forgot it (NOSCRIPT, after a restart or SCRIPT FLUSH).
struct RedisScript: Sendable {
    let source: String
    let sha: String

    init(_ source: String, on pool: RedisPool) async throws {
        guard let sha = try await pool.send(["SCRIPT", "LOAD", source]).string else {
            throw RedisError(.protocolError, "SCRIPT LOAD returned no digest")
        }
        self.source = source
        self.sha = sha
    }

    func run(on pool: RedisPool, keys: [String], arguments: [String]) async throws -> RedisReply {
        try await run(on: pool, keys: keys, arguments: arguments, then: []).0
    }

    /// The script, then `commands` in the same pipeline (one round trip); the script's reply and
    /// theirs. The commands run whatever the script answered.
    func run(on pool: RedisPool, keys: [String], arguments: [String], then commands: [[String]]) async throws -> (RedisReply, [RedisReply]) {
        let command = ["EVALSHA", sha, String(keys.count)] + keys + arguments
        var replies = try await pool.pipeline([command] + commands)
        if case .error(let message) = replies[0], message.hasPrefix("NOSCRIPT") {
            // Loaded and run in one call, so on a cluster both reach the node of the script's keys.
            replies[0] = try await pool.pipeline([["SCRIPT", "LOAD", source], command])[1]
        }
        return (try replies[0].unlessError(), Array(replies.dropFirst()))
    }
}
