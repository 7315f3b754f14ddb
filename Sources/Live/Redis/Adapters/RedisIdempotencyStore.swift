public import Domain
import Foundation
import LiveRuntime

/// Idempotency records in Redis: `fd:idem:{deal}:<user>:<operation>:<key>` holds the JSON of the
/// result, written `SET … NX EX retention`, so the first record for a key wins across every
/// replica; kept for `retention` (a day by default). A claim (a command in progress) is such a
/// record with the outcome `pending`, listed in its deal's sorted set `fd:{deal}:idem:pending` by
/// the time it was claimed; the listing is written first in the same pipelined round trip, so a
/// claim is never stored unlisted, and settling takes it off. The reconciler reads the lists of
/// every deal in `fd:deals`; see `docs/flows.md`. Both keys are in the deal's hash slot, with its
/// stock and orders, so the checkout's scripts write them in the same atomic step on a Redis
/// Cluster too. A scope without a deal is kept under its user (`fd:idem:{user}:…`) and listed in
/// `fd:idem:pending`.
public struct RedisIdempotencyStore: IdempotencyStore {
    let pool: RedisPool
    let prefix: String
    let retention: Duration

    public init(pool: RedisPool, prefix: String = "fd", retention: Duration = .seconds(86_400)) {
        self.pool = pool
        self.prefix = prefix
        self.retention = retention
    }

    func key(_ scope: IdempotencyStoreKey) -> String {
        guard let deal = scope.dealID else { return "\(prefix):idem:{\(scope.userID)}:\(scope.operation):\(scope.key)" }
        return "\(prefix):idem:{\(deal)}:\(scope.userID):\(scope.operation):\(scope.key)"
    }

    /// Where claims of `deal`'s orders (nil: of none) are listed.
    func pendingKey(_ deal: DealID?) -> String { deal.map { "\(prefix):{\($0)}:idem:pending" } ?? "\(prefix):idem:pending" }
    var seconds: String { String(max(1, retention.components.seconds)) }

    /// Sorted keys: a claim's scope is a member of its pending list, removed by the same bytes
    /// (`JSONEncoder`'s with `.sortedKeys`, as replicas of every version write it).
    static func encode<T: Encodable>(_ value: T) throws -> String { try RedisOutbox.encoder.string(value) }
    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T { try CompactJSONDecoder().decode(type, from: text) }

    public func result(for scope: IdempotencyStoreKey) async throws -> StoredResult? {
        guard let json = try await pool.send(["GET", key(scope)]).string else { return nil }
        return try Self.decode(StoredResult.self, json)
    }

    public func claim(_ pending: StoredResult, for scope: IdempotencyStoreKey, at instant: Instant) async throws -> StoredResult? {
        let replies = try await pool.pipeline([
            ["ZADD", pendingKey(scope.dealID), "NX", String(instant.nanosecondsSinceEpoch / 1_000_000), try Self.encode(scope)],
            ["SET", key(scope), try Self.encode(pending), "NX", "EX", seconds],
            ["GET", key(scope)],
        ])
        if case .error(let message) = replies[1] { throw RedisError(.protocolError, "cannot claim \(key(scope)): \(message)") }
        if replies[1].string == "OK" { return nil }
        guard let stored = replies[2].string else { throw RedisError(.protocolError, "idempotency record vanished: \(key(scope))") }
        let found = try Self.decode(StoredResult.self, stored)
        // A settled record was found: the listing this call wrote lists nothing in progress.
        if found.outcome != "pending" { _ = try await pool.send(["ZREM", pendingKey(scope.dealID), try Self.encode(scope)]) }
        return found
    }

    public func settle(_ result: StoredResult?, for scope: IdempotencyStoreKey) async throws {
        try await settle([(result, scope)])
    }

    /// Every claim's write and its listing's removal, in order, in one pipelined round trip.
    public func settle(_ claims: [(StoredResult?, IdempotencyStoreKey)]) async throws {
        let commands = try claims.flatMap { result, scope in
            [try result.map { ["SET", key(scope), try Self.encode($0), "EX", seconds] } ?? ["DEL", key(scope)],
             ["ZREM", pendingKey(scope.dealID), try Self.encode(scope)]]
        }
        for reply in try await pool.pipeline(commands) {
            if case .error(let message) = reply { throw RedisError(.protocolError, "cannot settle a claim: \(message)") }
        }
    }

    /// The oldest claims of every list (each deal's in `fd:deals`, and the one of scopes without a
    /// deal), oldest first: two round trips, the second pipelined over the lists.
    public func pendingClaims(before instant: Instant, limit: Int) async throws -> [IdempotencyStoreKey] {
        let maxScore = "(\(instant.nanosecondsSinceEpoch / 1_000_000)"
        let lists = [pendingKey(nil)] + (try await RedisStockLedger.deals(on: pool, prefix: prefix)).map(pendingKey)
        let replies = try await pool.pipeline(lists.map { ["ZRANGEBYSCORE", $0, "-inf", maxScore, "WITHSCORES", "LIMIT", "0", String(limit)] })
        var found: [(score: Double, member: String)] = []
        for reply in replies {
            let items = reply.array.compactMap(\.string)
            for i in stride(from: 0, to: items.count - 1, by: 2) { found.append((Double(items[i + 1]) ?? 0, items[i])) }
        }
        return try found.sorted { ($0.score, $0.member) < ($1.score, $1.member) }.prefix(limit).map { try Self.decode(IdempotencyStoreKey.self, $0.member) }
    }
}
