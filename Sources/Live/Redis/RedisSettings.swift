public import Domain

/// What the shop needs of the Redis it keeps the stock gate, the outbox, orders, payments and
/// idempotency records in, checked at start-up from `INFO`: a Redis that may evict keys under
/// memory pressure (any `maxmemory-policy` but `noeviction`) would silently drop a deal's gate or
/// an acknowledged order's journal entry, so the server refuses it. How durable it is (the
/// append-only file, its fsync policy) is the operator's choice and its price is measured
/// (`docs/data/redis.md`); it is logged at start-up.
public struct RedisSettings: Sendable, Hashable {
    public var maxmemoryPolicy: String
    public var appendOnly: Bool

    /// Reads the fields from `INFO`'s text.
    public init(info: String) throws {
        var fields: [Substring: Substring] = [:]
        for line in info.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon]] = line[line.index(after: colon)...]
        }
        guard let policy = fields["maxmemory_policy"] else { throw RedisError(.protocolError, "INFO has no maxmemory_policy") }
        maxmemoryPolicy = String(policy)
        appendOnly = fields["aof_enabled"] == "1"
    }

    /// The reason this Redis cannot hold the shop's keys, or nil.
    public var refusal: String? {
        maxmemoryPolicy == "noeviction" ? nil
            : "its maxmemory-policy is \(maxmemoryPolicy), so it may evict the stock gate, the outbox or idempotency keys under memory pressure; set maxmemory-policy noeviction"
    }

    /// Reads a Redis's settings (one `INFO` round trip).
    public static func read(_ pool: RedisPool) async throws -> RedisSettings {
        guard let text = try await pool.send(["INFO"]).string else { throw RedisError(.protocolError, "INFO did not answer text") }
        return try RedisSettings(info: text)
    }
}
