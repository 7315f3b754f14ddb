public import Domain

/// The waiting rooms in Redis, shared by every replica: a sorted set per deal (`<prefix>:{<deal>}:wr`,
/// members the buyers, scores their places; ties by member, as the in-memory store orders them)
/// and a key per spent ticket (`<prefix>:{<deal>}:wr:t:<ticket>` holding the order's idempotency
/// key, expiring with the ticket). The deal's hash tag keeps them in its slot of a Redis Cluster.
public struct RedisWaitingRoomStore: WaitingRoomStore {
    let pool: RedisPool
    let prefix: String
    let join: RedisScript
    let spend: RedisScript

    public init(pool: RedisPool, prefix: String = "fd") async throws {
        self.pool = pool
        self.prefix = prefix
        join = try await RedisScript(Self.joinSource, on: pool)
        spend = try await RedisScript(Self.spendSource, on: pool)
    }

    func queueKey(_ deal: DealID) -> String { "\(prefix):{\(deal)}:wr" }

    public func join(_ deal: DealID, _ user: UserID, place: Double) async throws -> (rank: Int, length: Int) {
        let reply = try await join.run(on: pool, keys: [queueKey(deal)], arguments: [String(place), user.rawValue]).array
        guard reply.count == 2, let rank = reply[0].integer, let length = reply[1].integer else {
            throw RedisError(.protocolError, "the waiting room answered \(reply)")
        }
        return (Int(rank), Int(length))
    }

    public func rank(_ deal: DealID, _ user: UserID) async throws -> (rank: Int, length: Int)? {
        let replies = try await pool.pipeline([["ZRANK", queueKey(deal), user.rawValue], ["ZCARD", queueKey(deal)]])
        guard replies.count == 2, let length = replies[1].integer else { throw RedisError(.protocolError, "the waiting room answered \(replies)") }
        return replies[0].integer.map { (Int($0), Int(length)) }
    }

    public func spend(ticket id: String, deal: DealID, key: IdempotencyKey, ttl: Duration) async throws -> Bool {
        let milliseconds = max(1, ttl.nanoseconds / 1_000_000)
        let reply = try await spend.run(on: pool, keys: ["\(queueKey(deal)):t:\(id)"], arguments: [key.rawValue, String(milliseconds)])
        guard let spent = reply.integer else { throw RedisError(.protocolError, "the waiting room answered \(reply)") }
        return spent == 1
    }

    /// ARGV: place, user. Joins unless in the queue already; returns {rank, length}.
    static let joinSource = """
        redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
        return {redis.call('ZRANK', KEYS[1], ARGV[2]), redis.call('ZCARD', KEYS[1])}
        """

    /// ARGV: the order's idempotency key, the ticket's time to live (ms). 1 when the ticket was
    /// not spent or was spent on this key, else 0.
    static let spendSource = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
        return 0
        """
}
