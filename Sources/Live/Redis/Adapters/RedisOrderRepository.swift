public import Domain
import Foundation
public import LiveRuntime

/// The request path's order store on the live server: each order a hash in Redis
/// (`fd:order:{<slot tag>}:<id>` with its version and JSON, in its deal's hash slot: `RedisKeys`), saved with optimistic concurrency by one small
/// script, kept for `retention`; a buyer's orders indexed in `fd:user:{id}:orders` by placing time.
/// The durable read model is MongoDB, written from Kafka by the event consumer; reads fall back to
/// it for orders Redis no longer holds, so a request never waits on MongoDB for a fresh order.
public struct RedisOrderRepository: OrderRepository {
    let pool: RedisPool
    let prefix: String
    let durable: (any OrderRepository)?
    let retention: Duration
    let script: RedisScript

    /// Lua for a versioned document (an order's or a payment's hash: its version `v` and JSON `o`),
    /// shared by every script that writes one (`saveScript`, the stock gate's `pay` and `cancel`,
    /// `RedisCheckoutSteps`'s opening). `stale(key, expected)` is the conflict reply
    /// `{'conflict', key, expected, stored}` when the stored version is not `expected`, else nil; a
    /// missing hash accepts any expected version (the caller read the document from the durable
    /// store) but a new one's (0) only when nothing is there. `save` writes it and its retention.
    static let documentFunctions = #"""
    local function stale(key, expected)
      local stored = redis.call('HGET', key, 'v')
      if (stored and stored ~= expected) or (not stored and expected == '0' and redis.call('EXISTS', key) == 1) then
        return {'conflict', key, expected, stored or '?'}
      end
    end
    local function save(key, version, json, ttl)
      redis.call('HSET', key, 'v', version, 'o', json)
      redis.call('PEXPIRE', key, ttl)
    end

    """#

    /// KEYS: the document's hash. ARGV: expected version, new version, JSON, retention in ms.
    static let saveScript = documentFunctions + #"""
    local conflict = stale(KEYS[1], ARGV[1])
    if conflict then return conflict end
    save(KEYS[1], ARGV[2], ARGV[3], ARGV[4])
    return {'ok'}
    """#

    /// A script's reply, unless it is `stale`'s conflict: then ``VersionConflict`` naming `stream`
    /// (the document's key when nil).
    static func versioned(_ r: [RedisReply], stream: String? = nil) throws -> [RedisReply] {
        guard r.first?.string == "conflict" else { return r }
        func part(_ i: Int) -> String? { r.count > i ? r[i].string : nil }
        throw VersionConflict(stream: stream ?? part(1) ?? "?", expected: part(2).flatMap { Int($0) } ?? -1, actual: part(3).flatMap { Int($0) } ?? -1)
    }

    /// A document's JSON as the scripts store it (orders and payments are only ever decoded again:
    /// their keys need no sorting).
    static func json(_ value: some Encodable) throws -> String { try CompactJSONEncoder().string(value) }

    public init(pool: RedisPool, prefix: String = "fd", durable: (any OrderRepository)?, retention: Duration = .seconds(7 * 86_400)) async throws {
        self.pool = pool
        self.prefix = prefix
        self.durable = durable
        self.retention = retention
        script = try await RedisScript(Self.saveScript, on: pool)
    }

    func key(_ id: OrderID) -> String { RedisKeys.record(prefix, "order", id.rawValue) }
    func userKey(_ user: UserID) -> String { "\(prefix):user:{\(user)}:orders" }
    var retentionMs: String { String(retention.components.seconds * 1000) }

    public func save(_ order: Order, expectedVersion: Int) async throws {
        let json = try Self.json(order)
        // A new order is indexed under its buyer in the same round trip (an index entry for an id that
        // lost the race names the order that won it: harmless).
        let user = userKey(order.userID)
        let index = expectedVersion == 0
            ? [["ZADD", user, String(order.placedAt.nanosecondsSinceEpoch / 1_000_000), order.id.rawValue], ["PEXPIRE", user, retentionMs]] : []
        try await Self.save(
            json, version: order.version, at: key(order.id), expectedVersion: expectedVersion, stream: "order/\(order.id)", retentionMs: retentionMs,
            with: script, on: pool, then: index)
    }

    /// Runs `saveScript` for one versioned document (and `then`, in the same round trip); a lost
    /// version race throws ``VersionConflict`` naming `stream`. Orders and payments share it.
    static func save(
        _ json: String, version: Int, at key: String, expectedVersion: Int, stream: String, retentionMs: String,
        with script: RedisScript, on pool: RedisPool, then commands: [[String]] = []
    ) async throws {
        _ = try versioned(
            try await script.run(on: pool, keys: [key], arguments: [String(expectedVersion), String(version), json, retentionMs], then: commands).0.array,
            stream: stream)
    }

    public func order(_ id: OrderID) async throws -> Order? {
        try await order(id, found: try await pool.send(["HGET", key(id), "o"]))
    }

    /// Starts the read ``order(_:)`` makes now (``RedisPool/sendNow(_:)``), for a caller that
    /// wants its answer later (`ReadAheadOrders`): the answer, when awaited; nil when the pool
    /// cannot send at once.
    public func startReading(_ id: OrderID) -> (@Sendable () async throws -> Order?)? {
        guard let pending = pool.sendNow(["HGET", key(id), "o"]) else { return nil }
        return { try await order(id, found: try await pending.reply()) }
    }

    /// The order Redis's `HGET` reply holds, else the durable store's.
    private func order(_ id: OrderID, found reply: RedisReply) async throws -> Order? {
        if let json = reply.string { return try Self.decode(json) }
        return try await durable?.order(id)
    }

    /// One pipelined round trip to Redis, and one query to the durable store for the misses.
    public func orders(_ ids: [OrderID]) async throws -> [Order] {
        let replies = try await pool.pipeline(ids.map { ["HGET", key($0), "o"] })
        var found: [Order] = []
        var missing: [OrderID] = []
        for (id, reply) in zip(ids, replies) {
            if let json = reply.string { found.append(try Self.decode(json)) } else { missing.append(id) }
        }
        if !missing.isEmpty, let durable { found += try await durable.orders(missing) }
        return found
    }

    /// The buyer's orders Redis holds merged with the durable store's page, newest first.
    public func orders(of user: UserID, after: OrderID?, limit: Int) async throws -> [Order] {
        let ids = try await pool.send(["ZRANGE", userKey(user), "0", "-1"]).array.compactMap(\.string).map { try OrderID(validating: $0) }
        var byID: [OrderID: Order] = [:]
        for order in try await orders(ids) { byID[order.id] = order }
        if let durable {
            for order in try await durable.orders(of: user, after: after, limit: limit) where (byID[order.id]?.version ?? 0) < order.version {
                byID[order.id] = order
            }
        }
        let mine = byID.values.sorted { ($0.placedAt, $0.id) > ($1.placedAt, $1.id) }
        guard let after, let cursor = try await order(after) else { return Array(mine.prefix(limit)) }
        return Array(mine.filter { ($0.placedAt, $0.id) < (cursor.placedAt, cursor.id) }.prefix(limit))
    }

    static func decode(_ json: String) throws -> Order { try CompactJSONDecoder().decode(Order.self, from: json) }
}

/// The catalogue through two cache levels: this process keeps what it decoded for `localTTL`
/// (a second by default: every request of a sale reads the same deal, and a cached read costs
/// neither a round trip nor a decode), then Redis keeps `fd:cache:product:{id}` /
/// `fd:cache:deal:{id}` for `ttl` (batched reads in one pipelined round trip), then the backing
/// catalogue. An `add` writes the backing catalogue and deletes the Redis copy, so every replica
/// reads the change within `localTTL` plus however long its refresh takes (at most `staleLimit`).
///
/// Every value this process holds, a deal's terms, a product or a deal page, is refreshed after
/// `localTTL` by one request while the others are served it as it was (stale-while-revalidate,
/// up to `staleLimit` past expiry), and a refresh that fails (Redis or MongoDB down or hung) serves
/// it as it was too and is tried again `localTTL` later (stale-if-error): an outage holds one
/// request a value each second, never every request that needs it, and a sale goes on with the
/// terms it had. With nothing held (a value never read here), the failure is the caller's.
public struct CachedDealCatalog: DealCatalog {
    let backing: any DealCatalog
    let pool: RedisPool
    let prefix: String
    let ttl: Duration
    let local: LocalCache<String, any Sendable>
    /// Deal pages (from the backing catalogue only).
    let pages: LocalCache<String, [DealTerms]>
    /// Hits and misses of each layer (nil: not counted).
    let metrics: CacheMetrics?

    public init(backing: any DealCatalog, pool: RedisPool, prefix: String = "fd", ttl: Duration = .seconds(300), localTTL: Duration = .seconds(1),
        staleLimit: Duration = .seconds(30), metrics: CacheMetrics? = nil
    ) {
        self.metrics = metrics
        self.backing = backing
        self.pool = pool
        self.prefix = prefix
        self.ttl = ttl
        local = LocalCache(ttl: localTTL, staleLimit: staleLimit)
        pages = LocalCache(ttl: localTTL, staleLimit: staleLimit, capacity: 256)
    }

    func key(_ kind: String, _ id: String) -> String { "\(prefix):cache:\(kind):{\(id)}" }

    public func add(_ product: Product) async throws {
        try await backing.add(product)
        _ = try await pool.send(["DEL", key("product", product.id.rawValue)])
        local.remove(key("product", product.id.rawValue))
    }

    public func add(_ terms: DealTerms) async throws {
        try await backing.add(terms)
        _ = try await pool.send(["DEL", key("deal", terms.id.rawValue)])
        local.remove(key("deal", terms.id.rawValue))
        pages.removeAll()
    }

    public func product(_ id: ProductID) async throws -> Product? { try await products([id]).first }
    public func products(_ ids: [ProductID]) async throws -> [Product] {
        try await cached("product", ids.map(\.rawValue), id: \.id.rawValue) { try await backing.products($0.map { ProductID(generated: $0) }) }
    }

    public func deal(_ id: DealID) async throws -> DealTerms? { try await deals([id]).first }
    public func deals(_ ids: [DealID]) async throws -> [DealTerms] {
        try await cached("deal", ids.map(\.rawValue), id: \.id.rawValue) { try await backing.deals($0.map { DealID(generated: $0) }) }
    }

    /// Pages come from the backing catalogue and are kept in-process (every buyer of a sale lists
    /// the same first page: `compare` showed that read going to MongoDB each time). Before they
    /// were served stale, with MongoDB stopped the deal list (5% of the benchmark's requests) took
    /// every worker within seconds. While MongoDB is down the deal list is the last one it gave
    /// (its deals' status and stock are Redis's, live).
    public func deals(after: DealID?, limit: Int) async throws -> [DealTerms] {
        let key = "page:\(after?.rawValue ?? "")|\(limit)"
        if let page = pages.lookup(key).value {
            metrics?.looked("deal_pages", hits: 1, misses: 0)
            return page
        }
        metrics?.looked("deal_pages", hits: 0, misses: 1)
        do {
            let page = try await backing.deals(after: after, limit: limit)
            pages.store(page, for: key)
            return page
        } catch {
            guard let page = pages.keepAfterFailure(key) else { throw error }
            return page
        }
    }

    func cached<Value: Codable & Sendable>(
        _ kind: String, _ ids: [String], id: KeyPath<Value, String>, load: ([String]) async throws -> [Value]
    ) async throws -> [Value] {
        guard !ids.isEmpty else { return [] }
        var found: [String: Value] = [:]
        for id in ids { found[id] = local.lookup(key(kind, id)).value as? Value }
        let remote = ids.filter { found[$0] == nil }
        metrics?.looked("catalog_local", hits: ids.count - remote.count, misses: remote.count)
        guard !remote.isEmpty else { return ids.compactMap { found[$0] } }
        do {
            try await fetch(kind, remote, id: id, into: &found, load: load)
        } catch {
            for id in remote where found[id] == nil {
                guard let value = local.keepAfterFailure(key(kind, id)) as? Value else { throw error }
                found[id] = value
            }
        }
        return ids.compactMap { found[$0] }
    }

    /// Redis's copies of `ids` (one pipelined round trip), then the backing catalogue's for those
    /// Redis does not hold, which Redis then keeps for `ttl`.
    private func fetch<Value: Codable & Sendable>(
        _ kind: String, _ remote: [String], id: KeyPath<Value, String>, into found: inout [String: Value], load: ([String]) async throws -> [Value]
    ) async throws {
        let replies = try await pool.pipeline(remote.map { ["GET", key(kind, $0)] })
        var missing: [String] = []
        for (id, reply) in zip(remote, replies) {
            if let json = reply.string, let value = try? CompactJSONDecoder().decode(Value.self, from: json) {
                found[id] = value
                local.store(value, for: key(kind, id))
            } else {
                missing.append(id)
            }
        }
        metrics?.looked("catalog_redis", hits: remote.count - missing.count, misses: missing.count)
        if !missing.isEmpty {
            let loaded = try await load(missing)
            let seconds = String(max(1, ttl.components.seconds))
            _ = try await pool.pipeline(try loaded.map { value in
                ["SET", key(kind, value[keyPath: id]), try RedisOutbox.encoder.string(value), "EX", seconds]
            })
            for value in loaded {
                found[value[keyPath: id]] = value
                local.store(value, for: key(kind, value[keyPath: id]))
            }
        }
    }
}
