import CHiredis
import Foundation

/// One blocking hiredis connection, for a thread that owns it: the broadcast listener's
/// subscription (`RedisPool` keeps its connections on NIO instead). hiredis does no locking, so a
/// connection is used by one thread at a time.
final class RedisConnection: @unchecked Sendable {
    // Safe: the one thread that owns the connection makes every call to the context.
    private var context: UnsafeMutablePointer<redisContext>
    private let endpoint: RedisEndpoint
    private let timeout: Duration

    init(_ endpoint: RedisEndpoint, timeout: Duration) throws(RedisError) {
        self.endpoint = endpoint
        self.timeout = timeout
        context = try Self.connect(endpoint, timeout: timeout)
    }

    deinit { redisFree(context) }

    /// Connects, and logs in when the endpoint has a password.
    static func connect(_ endpoint: RedisEndpoint, timeout: Duration) throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        let (host, port) = (endpoint.host, endpoint.port)
        let seconds = timeout.components.seconds
        let tv = timeval(tv_sec: Int(seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        guard let context = redisConnectWithTimeout(host, Int32(port), tv) else {
            throw RedisError(.connect, "cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let message = Self.text(of: context)
            redisFree(context)
            throw RedisError(.connect, "cannot connect to Redis at \(host):\(port): \(message)")
        }
        // The same bound on every read and write: a Redis that stops answering is an error, not a hang.
        redisSetTimeout(context, tv)
        if let login = endpoint.login {
            let raw = withArgv(login) { argc, argv, lengths in redisCommandArgv(context, argc, argv, lengths) }
            guard let raw else {
                let message = Self.text(of: context)
                redisFree(context)
                throw RedisError(.connect, "cannot log in to Redis at \(endpoint.description): \(message)")
            }
            let reply = RedisReply(raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            if case .error(let message) = reply {
                redisFree(context)
                throw RedisEndpoint.refused(message, at: endpoint.description)
            }
        }
        return context
    }

    /// A context that failed once is unusable (hiredis's rule): connect afresh before the next use.
    private func usableContext() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        if context.pointee.err != 0 {
            let fresh = try Self.connect(endpoint, timeout: timeout)
            redisFree(context)
            context = fresh
        }
        return context
    }

    /// Sends one command and waits for its reply (blocking).
    func send(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try pipeline([arguments])[0].unlessError()
    }

    /// Reads the next reply the server pushes (a subscribed connection's messages; blocking: call
    /// on the connection's own thread). A read timeout is an `.io` error.
    func readReply() throws(RedisError) -> RedisReply {
        let context = try usableContext()
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw RedisError(.io, "Redis connection failed: \(Self.text(of: context))")
        }
        defer { freeReplyObject(raw) }
        return RedisReply(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// The next reply the server pushes, waiting at most `wait` for it to begin; nil when none came
    /// (the connection stays subscribed: nothing published meanwhile is lost). A reply already read
    /// into hiredis's buffer is returned at once; a reply that began is read whole (blocking, within
    /// the connection's own time-out).
    func awaitReply(within wait: Duration) throws(RedisError) -> RedisReply? {
        let context = try usableContext()
        var raw: UnsafeMutableRawPointer?
        if redisReaderGetReply(context.pointee.reader, &raw) == REDIS_OK, let buffered = raw {
            defer { freeReplyObject(buffered) }
            return RedisReply(buffered.assumingMemoryBound(to: redisReply.self))
        }
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(clamping: wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000))
        guard ready != 0 else { return nil }
        return try readReply()
    }

    /// Sends every command before reading any reply: one round trip for the batch (blocking).
    /// Server errors come back as `.error` replies in their places.
    func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisReply] {
        let context = try usableContext()
        for command in commands {
            let status = Self.withArgv(command) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
            guard status == REDIS_OK else { throw RedisError(.io, "Redis connection failed: \(Self.text(of: context))") }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw RedisError(.io, "Redis connection failed: \(Self.text(of: context))")
            }
            replies.append(RedisReply(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    static func withArgv<T>(_ arguments: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> T) -> T {
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var argv = cStrings.map { UnsafePointer<CChar>($0) }
        let lengths = arguments.map { $0.utf8.count }
        return argv.withUnsafeMutableBufferPointer { a in
            lengths.withUnsafeBufferPointer { l in body(Int32(arguments.count), a.baseAddress!, l.baseAddress!) }
        }
    }

    static func text(of context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// A Redis reply, copied out of hiredis's reply object.
public enum RedisReply: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case status(String)
    case error(String)

    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING: self = .string(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_STATUS: self = .status(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR: self = .error(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER: self = .integer(r.integer)
        case REDIS_REPLY_ARRAY: self = .array((0..<r.elements).map { RedisReply(r.element[$0]!) })
        default: self = .null
        }
    }

    /// A string, status or integer reply as text.
    public var string: String? {
        switch self {
        case .string(let s), .status(let s): s
        case .integer(let i): String(i)
        default: nil
        }
    }

    /// An integer reply, or a string reply holding one.
    public var integer: Int64? {
        switch self {
        case .integer(let i): i
        case .string(let s): Int64(s)
        default: nil
        }
    }

    /// An array reply's elements (none for any other reply).
    public var array: [RedisReply] {
        if case .array(let a) = self { return a }
        return []
    }
}

/// A Redis failure: it could not connect, the connection broke, or the server answered an error.
public struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `replication`: written, but fewer replicas acknowledged it than required (``RedisPool/ReplicaWait``).
    public enum Kind: Sendable, Hashable { case connect, io, server, protocolError, replication }
    public var kind: Kind
    public var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "Redis: \(message)" }
}

extension RedisReply {
    /// The reply itself, unless Redis answered an error: then that error (`RedisError.server`).
    func unlessError() throws(RedisError) -> RedisReply {
        if case .error(let message) = self { throw RedisError(.server, message) }
        return self
    }
}
