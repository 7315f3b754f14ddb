public import Domain

/// What the shop needs of the Redis it keeps the stock gate, the outbox, orders, payments and
/// idempotency records in, checked at start-up: a Redis that may evict keys under memory pressure
/// (any `maxmemory-policy` but `noeviction`) would silently drop a deal's gate or an acknowledged
/// order's journal entry, so the server refuses it. How durable it must be is the operator's
/// choice (``RedisDurability``, and ``RedisPool/ReplicaWait`` for replicas), its price measured in
/// `docs/data/redis.md`; the server refuses a Redis that does not meet the choice.
public struct RedisSettings: Sendable, Hashable {
    public var maxmemoryPolicy: String
    public var appendOnly: Bool
    /// `appendfsync` (`always`, `everysec`, `no`), when `CONFIG GET` may be used (a managed Redis
    /// may rename it away).
    public var appendFsync: String?
    /// Replicas connected to this primary and in sync now.
    public var connectedReplicas: Int

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
        // `slave0:ip=…,state=online,…`: only a replica past its first sync acknowledges writes.
        connectedReplicas = fields.filter { $0.key.hasPrefix("slave") && $0.key.dropFirst(5).allSatisfy(\.isNumber) && $0.value.contains("state=online") }.count
    }

    /// The reason this Redis does not meet `durability` with `replicas` acknowledging each write,
    /// or nil.
    public func shortfall(_ durability: RedisDurability, replicas: Int) -> String? {
        if replicas > connectedReplicas {
            return "it has \(connectedReplicas) connected replicas and every write must be acknowledged by \(replicas)"
        }
        guard durability != .any else { return nil }
        guard appendOnly else { return "it keeps no append-only file (appendonly no) and \(durability.rawValue) durability needs one" }
        guard let appendFsync else {
            return "its appendfsync cannot be read (CONFIG GET is not allowed), so \(durability.rawValue) durability cannot be checked"
        }
        switch (durability, appendFsync) {
        case (.always, "always"), (.everysec, "always"), (.everysec, "everysec"): return nil
        default: return "its appendfsync is \(appendFsync) and \(durability.rawValue) durability needs \(durability == .always ? "always" : "everysec or always")"
        }
    }

    /// The reason this Redis cannot hold the shop's keys, or nil.
    public var refusal: String? {
        maxmemoryPolicy == "noeviction" ? nil
            : "its maxmemory-policy is \(maxmemoryPolicy), so it may evict the stock gate, the outbox or idempotency keys under memory pressure; set maxmemory-policy noeviction"
    }

    /// Reads a Redis's settings (`INFO`, then `CONFIG GET appendfsync` if allowed).
    public static func read(_ pool: RedisPool) async throws -> RedisSettings {
        let replies = try await pool.pipeline([["INFO"], ["CONFIG", "GET", "appendfsync"]])
        guard let text = replies[0].string else { throw RedisError(.protocolError, "INFO did not answer text: \(replies[0])") }
        var settings = try RedisSettings(info: text)
        let config = replies[1].array.compactMap(\.string)
        settings.appendFsync = config.count == 2 ? config[1] : nil
        return settings
    }
}

/// How much of the last second a Redis may lose on a crash, as the operator requires it: `any`
/// (what the Redis has; without an append-only file the server warns), `everysec` (an append-only
/// file written to disk every second: a host crash loses up to a second of acknowledged writes; a
/// process crash loses nothing) or `always` (written to disk before each reply: nothing
/// acknowledged is lost, at a price measured in `docs/data/redis.md`).
public enum RedisDurability: String, Sendable, Hashable, CaseIterable {
    case any, everysec, always
}
