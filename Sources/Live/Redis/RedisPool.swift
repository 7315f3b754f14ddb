import Foundation

/// A fixed pool of Redis connections. `run` hands a connection to one caller at a time and runs
/// the blocking hiredis call on the connection's own queue, so the cooperative pool never blocks.
public actor RedisPool {
    public struct Configuration: Sendable {
        /// `redis://host:port` (a path or database number after it is ignored).
        public var url: String
        public var connections: Int
        public var connectTimeout: Duration

        public init(url: String, connections: Int = 8, connectTimeout: Duration = .seconds(2)) {
            self.url = url
            self.connections = connections
            self.connectTimeout = connectTimeout
        }
    }

    private var idle: [RedisConnection]
    private var waiters: [CheckedContinuation<RedisConnection, Never>] = []

    /// Connects every connection now: an unreachable Redis is an error naming it.
    public init(_ configuration: Configuration) throws {
        let (host, port) = try Self.parse(configuration.url)
        idle = try (0..<max(1, configuration.connections)).map { _ in
            try RedisConnection(host: host, port: port, timeout: configuration.connectTimeout)
        }
    }

    static func parse(_ url: String) throws(RedisError) -> (String, Int) {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host, !host.isEmpty else {
            throw RedisError(.connect, "expected a URL like redis://127.0.0.1:6379, found \"\(url)\"")
        }
        return (host, components.port ?? 6379)
    }

    /// Runs `body` with a connection of its own, off the cooperative pool.
    func run<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        let connection = await checkOut()
        defer { checkIn(connection) }
        return try await withCheckedThrowingContinuation { continuation in
            connection.queue.async { continuation.resume(with: Result { try body(connection) }) }
        }
    }

    /// One command.
    public func send(_ arguments: [String]) async throws -> RedisReply {
        try await run { try $0.send(arguments) }
    }

    /// Several commands in one round trip; each reply in its command's place (server errors as
    /// `.error` replies).
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        return try await run { try $0.pipeline(commands) }
    }

    private func checkOut() async -> RedisConnection {
        if let connection = idle.popLast() { return connection }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func checkIn(_ connection: RedisConnection) {
        if waiters.isEmpty {
            idle.append(connection)
        } else {
            waiters.removeFirst().resume(returning: connection)
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
            _ = try await pool.send(["SCRIPT", "LOAD", source])
            replies[0] = try await pool.send(command)
        }
        if case .error(let message) = replies[0] { throw RedisError(.server, message) }
        return (replies[0], Array(replies.dropFirst()))
    }
}
