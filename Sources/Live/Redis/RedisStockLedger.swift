public import Domain
import Foundation

/// The stock ledger on Redis: every operation is one EVALSHA of `StockGateScript`, atomic per
/// deal. Keys carry the deal's hash tag (`fd:{deal-1}:gate`), so a Redis Cluster keeps a deal's
/// keys on one shard. The events it returns are rebuilt from the script's reply and the request,
/// with the sequence numbers the script assigned. See `docs/data/redis.md`.
public struct RedisStockLedger: StockLedger {
    let pool: RedisPool
    let prefix: String
    let sha: String

    /// Loads the script (SCRIPT LOAD) and returns a ledger using `pool`. `prefix` namespaces the
    /// keys (tests use a fresh one each).
    public init(pool: RedisPool, prefix: String = "fd") async throws {
        self.pool = pool
        self.prefix = prefix
        guard let sha = try await pool.send(["SCRIPT", "LOAD", StockGateScript.source]).string else {
            throw RedisError(.protocolError, "SCRIPT LOAD returned no digest")
        }
        self.sha = sha
    }

    func keys(_ deal: DealID) -> [String] {
        let tag = "\(prefix):{\(deal)}"
        return ["\(tag):gate", "\(tag):res", "\(tag):sold", "\(tag):hold", "\(tag):keys", "\(tag):exp"]
    }

    var dealsKey: String { "\(prefix):deals" }

    static func time(_ instant: Instant) -> String {
        let digits = String(instant.nanosecondsSinceEpoch)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// Runs one gate operation; reloads the script if the server forgot it (NOSCRIPT).
    func gate(_ deal: DealID, _ op: String, at instant: Instant, _ arguments: [String] = []) async throws -> [RedisReply] {
        let command = ["EVALSHA", sha, "6"] + keys(deal) + [op, Self.time(instant)] + arguments
        let reply: RedisReply
        do {
            reply = try await pool.send(command)
        } catch let error as RedisError where error.kind == .server && error.message.hasPrefix("NOSCRIPT") {
            _ = try await pool.send(["SCRIPT", "LOAD", StockGateScript.source])
            reply = try await pool.send(command)
        }
        let parts = reply.array
        if parts.first?.string == "unknown" { throw UnknownDealError(dealID: deal) }
        return parts
    }

    public func create(_ terms: DealTerms) async throws -> [SequencedEvent] {
        let reply = try await gate(terms.id, "create", at: terms.startsAt, [
            Self.time(terms.startsAt), Self.time(terms.endsAt), String(terms.perUserLimit), String(terms.initialStock),
        ])
        _ = try await pool.send(["SADD", dealsKey, terms.id.rawValue])
        guard reply.first?.string == "created" else { return [] }
        return StockGate.create(terms).1
    }

    public func reserve(_ dealID: DealID, _ request: ReserveRequest, at instant: Instant) async throws -> LedgerResult<ReserveDecision> {
        let r = try await gate(dealID, "reserve", at: instant, [
            request.orderID.rawValue, request.userID.rawValue, String(request.quantity), request.idempotencyKey.rawValue,
            Self.time(request.expiresAt),
        ])
        switch r.first?.string {
        case "reserve":
            let event = StockReserved(
                dealID: dealID, orderID: request.orderID, userID: request.userID, quantity: request.quantity,
                idempotencyKey: request.idempotencyKey, expiresAt: request.expiresAt, at: instant)
            var events = [SequencedEvent(stream: .inventory(dealID), sequence: try int(r, 1), event: .inventory(.reserved(event)))]
            events += try dealEvent(dealID, r, at: 2, instant)
            return LedgerResult(decision: .reserve(event), events: events)
        case "duplicate":
            let record = Inventory.KeyRecord(
                orderID: OrderID(generated: try text(r, 1)), quantity: try int(r, 2),
                reservedAt: Instant(nanosecondsSinceEpoch: Int64(try int(r, 3))), expiresAt: Instant(nanosecondsSinceEpoch: Int64(try int(r, 4))))
            return LedgerResult(decision: .duplicate(record), events: [])
        case "notActive":
            guard let status = DealStatus(rawValue: try text(r, 1)) else { throw malformed(r) }
            return LedgerResult(decision: .notActive(status), events: [])
        case "invalid": return LedgerResult(decision: .invalidQuantity, events: [])
        case "limit": return LedgerResult(decision: .limitExceeded(remaining: try int(r, 1)), events: [])
        case "soldOut": return LedgerResult(decision: .soldOut(available: try int(r, 1)), events: [])
        default: throw malformed(r)
        }
    }

    public func confirm(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> LedgerResult<ConfirmDecision> {
        let r = try await gate(dealID, "confirm", at: instant, [orderID.rawValue])
        switch r.first?.string {
        case "confirm":
            let event = StockConfirmed(dealID: dealID, orderID: orderID, quantity: try int(r, 1), at: instant)
            return LedgerResult(decision: .confirm(event), events: [SequencedEvent(stream: .inventory(dealID), sequence: try int(r, 2), event: .inventory(.confirmed(event)))])
        case "expire":
            let event = StockExpired(dealID: dealID, orderID: orderID, quantity: try int(r, 1), at: instant)
            let events = [SequencedEvent(stream: .inventory(dealID), sequence: try int(r, 2), event: .inventory(.expired(event)))]
                + (try dealEvent(dealID, r, at: 3, instant))
            return LedgerResult(decision: .expire(event), events: events)
        case "alreadyConfirmed": return LedgerResult(decision: .alreadyConfirmed, events: [])
        case "notReserved": return LedgerResult(decision: .notReserved, events: [])
        default: throw malformed(r)
        }
    }

    public func release(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await giveBack(dealID, "release", orderID, at: instant) { .released(StockReleased(dealID: dealID, orderID: orderID, quantity: $0, at: instant)) }
    }

    public func expire(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await giveBack(dealID, "expire", orderID, at: instant) { .expired(StockExpired(dealID: dealID, orderID: orderID, quantity: $0, at: instant)) }
    }

    public func returnSold(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await giveBack(dealID, "return", orderID, at: instant) { .returned(StockReturned(dealID: dealID, orderID: orderID, quantity: $0, at: instant)) }
    }

    /// release, expire and return answer `{op, quantity, inventory sequence, deal event, deal sequence}` or `{none}`.
    func giveBack(
        _ dealID: DealID, _ op: String, _ orderID: OrderID, at instant: Instant, _ event: (Int) -> InventoryEvent
    ) async throws -> [SequencedEvent] {
        let r = try await gate(dealID, op, at: instant, [orderID.rawValue])
        guard r.first?.string != "none" else { return [] }
        return [SequencedEvent(stream: .inventory(dealID), sequence: try int(r, 2), event: .inventory(event(try int(r, 1))))]
            + (try dealEvent(dealID, r, at: 3, instant))
    }

    public func restock(_ dealID: DealID, quantity: Int, at instant: Instant) async throws -> [SequencedEvent] {
        let r = try await gate(dealID, "restock", at: instant, [String(quantity)])
        switch r.first?.string {
        case "ended": throw ValidationError(field: "dealId", reason: "names a deal that has ended")
        case "invalid": throw ValidationError(field: "quantity", reason: "must be between 1 and \(try int(r, 1))")
        case "restocked":
            let event = StockRestocked(dealID: dealID, quantity: try int(r, 1), at: instant)
            return [SequencedEvent(stream: .inventory(dealID), sequence: try int(r, 2), event: .inventory(.restocked(event)))]
                + (try dealEvent(dealID, r, at: 3, instant))
        default: throw malformed(r)
        }
    }

    public func start(_ dealID: DealID, at instant: Instant) async throws -> [SequencedEvent] {
        let r = try await gate(dealID, "start", at: instant)
        guard r.first?.string == "started" else { return [] }
        return [SequencedEvent(stream: .deal(dealID), sequence: try int(r, 1), event: .deal(.started(DealStarted(dealID: dealID, at: instant))))]
            + (try dealEvent(dealID, r, at: 2, instant))
    }

    public func end(_ dealID: DealID, at instant: Instant) async throws -> [SequencedEvent] {
        let r = try await gate(dealID, "end", at: instant)
        guard r.first?.string == "ended" else { return [] }
        return [SequencedEvent(stream: .deal(dealID), sequence: try int(r, 1), event: .deal(.ended(DealEnded(dealID: dealID, at: instant))))]
    }

    public func stock(_ dealID: DealID) async throws -> DealStock? {
        let fields = ["status", "total", "available", "reserved", "sold", "iv", "dv"]
        let r = try await pool.send(["HMGET", keys(dealID)[0]] + fields)
        let values = r.array
        guard values.count == fields.count, let statusText = values[0].string else { return nil }
        guard let status = DealStatus(rawValue: statusText) else { throw malformed(values) }
        func n(_ i: Int) throws -> Int { guard let v = values[i].integer else { throw malformed(values) }; return Int(v) }
        return DealStock(
            status: status,
            inventory: InventorySnapshot(dealID: dealID, total: try n(1), available: try n(2), reserved: try n(3), sold: try n(4), version: try n(5)),
            dealVersion: try n(6))
    }

    public func dueReservations(at instant: Instant, limit: Int) async throws -> [DueReservation] {
        let deals = try await pool.send(["SMEMBERS", dealsKey]).array.compactMap(\.string).sorted()
        var due: [DueReservation] = []
        let maxScore = String(instant.nanosecondsSinceEpoch / 1_000_000)
        for deal in deals where due.count < limit {
            let dealID = DealID(generated: deal)
            let orders = try await pool.send(["ZRANGEBYSCORE", keys(dealID)[5], "-inf", maxScore, "LIMIT", "0", String(limit - due.count)])
            due += orders.array.compactMap(\.string).map { DueReservation(dealID: dealID, orderID: OrderID(generated: $0)) }
        }
        return due
    }

    /// The deal event (and sequence) at `index` and `index + 1` of a reply, when there is one.
    func dealEvent(_ dealID: DealID, _ r: [RedisReply], at index: Int, _ instant: Instant) throws -> [SequencedEvent] {
        guard r.count > index + 1, let kind = r[index].string, !kind.isEmpty else { return [] }
        let event: DealEvent
        switch kind {
        case "soldOut": event = .soldOut(DealSoldOut(dealID: dealID, at: instant))
        case "reopened": event = .reopened(DealReopened(dealID: dealID, at: instant))
        default: throw malformed(r)
        }
        return [SequencedEvent(stream: .deal(dealID), sequence: try int(r, index + 1), event: .deal(event))]
    }

    func int(_ r: [RedisReply], _ i: Int) throws -> Int {
        guard r.count > i, let v = r[i].integer else { throw malformed(r) }
        return Int(v)
    }

    func text(_ r: [RedisReply], _ i: Int) throws -> String {
        guard r.count > i, let v = r[i].string else { throw malformed(r) }
        return v
    }

    func malformed(_ r: [RedisReply]) -> RedisError {
        RedisError(.protocolError, "unexpected stock gate reply \(r)")
    }
}
