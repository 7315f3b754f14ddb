public import Domain
import Foundation
import LiveRuntime

/// The stock ledger on Redis: every operation is one EVALSHA of `StockGateScript`, atomic per
/// deal. Keys carry the deal's hash tag (`fd:{deal-1}:gate`), so a Redis Cluster keeps a deal's
/// keys on one shard. The events it returns are rebuilt from the script's reply and the request,
/// with the sequence numbers the script assigned. See `docs/data/redis.md`.
public struct RedisStockLedger: StockLedger {
    let pool: RedisPool
    let prefix: String
    let script: RedisScript

    /// Loads the script (SCRIPT LOAD) and returns a ledger using `pool`. `prefix` namespaces the
    /// keys (tests use a fresh one each).
    public init(pool: RedisPool, prefix: String = "fd") async throws {
        self.pool = pool
        self.prefix = prefix
        script = try await RedisScript(StockGateScript.source, on: pool)
    }

    func keys(_ deal: DealID) -> [String] {
        let tag = "\(prefix):{\(deal)}"
        return [Self.gateKey(prefix: prefix, deal: deal), "\(tag):res", "\(tag):sold", "\(tag):hold", "\(tag):keys", "\(tag):exp", journalKey(deal)]
    }

    /// The deal's gate hash: its status and counters.
    static func gateKey(prefix: String, deal: DealID) -> String { "\(prefix):{\(deal)}:gate" }

    /// The deal's journal stream: the outbox the gate script appends each change to.
    func journalKey(_ deal: DealID) -> String { Self.journalKey(prefix: prefix, deal: deal) }
    static func journalKey(prefix: String, deal: DealID) -> String { "\(prefix):{\(deal)}:journal" }

    /// Every deal's id (the sweeper, the relay and the reconciler walk it).
    var dealsKey: String { Self.dealsKey(prefix: prefix) }
    static func dealsKey(prefix: String) -> String { "\(prefix):deals" }

    /// The deals listed in `fd:deals`, sorted: one round trip.
    static func deals(on pool: RedisPool, prefix: String) async throws -> [DealID] {
        try await pool.send(["SMEMBERS", dealsKey(prefix: prefix)]).array.compactMap(\.string).sorted().map { try DealID(validating: $0) }
    }

    static func time(_ instant: Instant) -> String {
        let digits = String(instant.nanosecondsSinceEpoch)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// Runs one gate operation; reloads the script if the server forgot it (NOSCRIPT).
    /// In a span of its own (`EVALSHA stock-gate`), whose context the journal entry keeps.
    func gate(_ deal: DealID, _ op: String, at instant: Instant, _ arguments: [String] = [], keys extra: [String] = []) async throws -> [RedisReply] {
        try await pool.traced("EVALSHA", "stock-gate") { span in
            span?.attributes["flashdeal.deal.id"] = deal.rawValue
            span?.attributes["flashdeal.gate.operation"] = op
            let parts = try await script.run(
                on: pool, keys: keys(deal) + extra, arguments: [op, Self.time(instant), TraceContext.traceParent(span?.context)] + arguments
            ).array
            if let outcome = parts.first?.string { span?.attributes["flashdeal.gate.outcome"] = outcome }
            if parts.first?.string == "unknown" { throw UnknownDealError(dealID: deal) }
            return parts
        }
    }

    public func create(_ terms: DealTerms) async throws -> [SequencedEvent] {
        let arguments = [
            Self.time(terms.startsAt), Self.time(terms.endsAt), String(terms.perUserLimit), String(terms.initialStock), String(terms.reservationCap),
            String(terms.cancelCoolDown.nanoseconds),
        ]
        let reply = try await gate(terms.id, "create", at: terms.startsAt, arguments)
        _ = try await pool.send(["SADD", dealsKey, terms.id.rawValue])
        return try Self.events("create", terms.id, at: terms.startsAt, arguments, reply, terms: terms)
    }

    /// The events a gate change recorded, rebuilt from the operation, its arguments and the
    /// script's reply: what the ledger returns to its caller and what `OutboxRelay` rebuilds from
    /// a journal entry. `terms` is needed for `create` only. A reply that changed nothing has none.
    static func events(
        _ op: String, _ dealID: DealID, at instant: Instant, _ a: [String], _ r: [RedisReply], terms: DealTerms? = nil
    ) throws -> [SequencedEvent] {
        func inventory(_ event: InventoryEvent, _ i: Int) throws -> [SequencedEvent] {
            [SequencedEvent(stream: .inventory(dealID), sequence: try Self.int(r, i), event: .inventory(event))] + (try Self.dealEvent(dealID, r, at: i + 1, instant))
        }
        func argument(_ i: Int) throws -> String {
            guard a.count > i else { throw RedisError(.protocolError, "stock gate \(op) journalled without argument \(i)") }
            return a[i]
        }
        let order = { try OrderID(validating: try argument(0)) }
        switch (op, r.first?.string) {
        case ("create", "created"):
            guard let terms else { throw RedisError(.protocolError, "deal \(dealID) has no terms in the catalogue") }
            return StockGate.create(terms).1
        case ("reserve", "reserve"):
            let quantity = try argument(2)
            guard let qty = Int(quantity), let expires = Int64(try argument(4)) else { throw Self.malformed(r) }
            let event = StockReserved(
                dealID: dealID, orderID: try order(), userID: try UserID(validating: try argument(1)), quantity: qty,
                idempotencyKey: try IdempotencyKey(validating: try argument(3)), expiresAt: Instant(nanosecondsSinceEpoch: expires), at: instant)
            return try inventory(.reserved(event), 1)
        case ("confirm", "confirm"):
            let event = StockConfirmed(dealID: dealID, orderID: try order(), quantity: try Self.int(r, 1), at: instant)
            return [SequencedEvent(stream: .inventory(dealID), sequence: try Self.int(r, 2), event: .inventory(.confirmed(event)))]
        case ("confirm", "expire"), ("expire", "expire"):
            return try inventory(.expired(StockExpired(dealID: dealID, orderID: try order(), quantity: try Self.int(r, 1), at: instant)), 2)
        case ("release", "release"):
            return try inventory(.released(StockReleased(dealID: dealID, orderID: try order(), quantity: try Self.int(r, 1), at: instant)), 2)
        case ("return", "returned"):
            return try inventory(.returned(StockReturned(dealID: dealID, orderID: try order(), quantity: try Self.int(r, 1), at: instant)), 2)
        case ("restock", "restocked"):
            return try inventory(.restocked(StockRestocked(dealID: dealID, quantity: try Self.int(r, 1), at: instant)), 2)
        case ("start", "started"):
            return [SequencedEvent(stream: .deal(dealID), sequence: try Self.int(r, 1), event: .deal(.started(DealStarted(dealID: dealID, at: instant))))]
                + (try Self.dealEvent(dealID, r, at: 2, instant))
        case ("end", "ended"):
            return [SequencedEvent(stream: .deal(dealID), sequence: try Self.int(r, 1), event: .deal(.ended(DealEnded(dealID: dealID, at: instant))))]
        default:
            return []
        }
    }

    public func reserve(_ dealID: DealID, _ request: ReserveRequest, at instant: Instant) async throws -> LedgerResult<ReserveDecision> {
        let arguments = [
            request.orderID.rawValue, request.userID.rawValue, String(request.quantity), request.idempotencyKey.rawValue,
            Self.time(request.expiresAt),
        ]
        let r = try await gate(dealID, "reserve", at: instant, arguments)
        switch r.first?.string {
        case "reserve":
            let events = try Self.events("reserve", dealID, at: instant, arguments, r)
            guard case .inventory(.reserved(let event)) = events.first?.event else { throw Self.malformed(r) }
            return LedgerResult(decision: .reserve(event), events: events)
        case "duplicate":
            let record = Inventory.KeyRecord(
                orderID: try OrderID(validating: try Self.text(r, 1)), quantity: try Self.int(r, 2),
                reservedAt: Instant(nanosecondsSinceEpoch: Int64(try Self.int(r, 3))), expiresAt: Instant(nanosecondsSinceEpoch: Int64(try Self.int(r, 4))))
            return LedgerResult(decision: .duplicate(record), events: [])
        case "notActive":
            guard let status = DealStatus(rawValue: try Self.text(r, 1)) else { throw Self.malformed(r) }
            return LedgerResult(decision: .notActive(status), events: [])
        case "invalid": return LedgerResult(decision: .invalidQuantity, events: [])
        case "limit": return LedgerResult(decision: .limitExceeded(remaining: try Self.int(r, 1)), events: [])
        case "coolingDown":
            guard let until = Int64(try Self.text(r, 1)) else { throw Self.malformed(r) }
            return LedgerResult(decision: .coolingDown(until: Instant(nanosecondsSinceEpoch: until)), events: [])
        case "capReached": return LedgerResult(decision: .reservationCapReached(cap: try Self.int(r, 1)), events: [])
        case "soldOut": return LedgerResult(decision: .soldOut(available: try Self.int(r, 1)), events: [])
        default: throw Self.malformed(r)
        }
    }

    public func confirm(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> LedgerResult<ConfirmDecision> {
        try Self.confirmed(dealID, orderID, at: instant, try await gate(dealID, "confirm", at: instant, [orderID.rawValue]))
    }

    /// A confirmation and, when the units are confirmed, a payment's completion in the same step
    /// (the gate script's `pay`: `keys` and `arguments` as it documents them, after the order id).
    /// A version race throws ``VersionConflict`` and changes nothing.
    func confirm(_ dealID: DealID, _ orderID: OrderID, at instant: Instant, completing keys: [String], _ arguments: [String]) async throws
        -> LedgerResult<ConfirmDecision>
    {
        try Self.confirmed(dealID, orderID, at: instant, try RedisOrderRepository.versioned(try await gate(dealID, "pay", at: instant, [orderID.rawValue] + arguments, keys: keys)))
    }

    /// An order's refund (the gate script's `refund`): the units returned when still sold to the
    /// order, and the order and payment refunded with their events and the claims settled, in one
    /// step. A version race throws ``VersionConflict`` and changes nothing.
    func returnSold(_ dealID: DealID, _ orderID: OrderID, at instant: Instant, refunding keys: [String], _ arguments: [String]) async throws
        -> [SequencedEvent]
    {
        let r = try RedisOrderRepository.versioned(try await gate(dealID, "refund", at: instant, [orderID.rawValue] + arguments, keys: keys))
        return try Self.events("return", dealID, at: instant, [orderID.rawValue], r)
    }

    /// A release and, when it released the units, an order's cancellation in the same step (the
    /// gate script's `cancel`). A version race throws ``VersionConflict`` and changes nothing.
    func release(_ dealID: DealID, _ orderID: OrderID, at instant: Instant, cancelling keys: [String], _ arguments: [String]) async throws
        -> [SequencedEvent]
    {
        let r = try RedisOrderRepository.versioned(try await gate(dealID, "cancel", at: instant, [orderID.rawValue] + arguments, keys: keys))
        return try Self.events("release", dealID, at: instant, [orderID.rawValue], r)
    }

    static func confirmed(_ dealID: DealID, _ orderID: OrderID, at instant: Instant, _ r: [RedisReply]) throws -> LedgerResult<ConfirmDecision> {
        let events = try Self.events("confirm", dealID, at: instant, [orderID.rawValue], r)
        switch events.first?.event {
        case .inventory(.confirmed(let event)): return LedgerResult(decision: .confirm(event), events: events)
        case .inventory(.expired(let event)): return LedgerResult(decision: .expire(event), events: events)
        default: break
        }
        switch r.first?.string {
        case "alreadyConfirmed": return LedgerResult(decision: .alreadyConfirmed, events: [])
        case "notReserved": return LedgerResult(decision: .notReserved, events: [])
        default: throw Self.malformed(r)
        }
    }

    public func release(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await Self.events("release", dealID, at: instant, [orderID.rawValue], gate(dealID, "release", at: instant, [orderID.rawValue]))
    }

    public func expire(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await Self.events("expire", dealID, at: instant, [orderID.rawValue], gate(dealID, "expire", at: instant, [orderID.rawValue]))
    }

    public func returnSold(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await Self.events("return", dealID, at: instant, [orderID.rawValue], gate(dealID, "return", at: instant, [orderID.rawValue]))
    }

    public func restock(_ dealID: DealID, quantity: Int, at instant: Instant) async throws -> [SequencedEvent] {
        let r = try await gate(dealID, "restock", at: instant, [String(quantity)])
        switch r.first?.string {
        case "ended": throw ValidationError(field: "dealId", reason: "names a deal that has ended")
        case "invalid": throw ValidationError(field: "quantity", reason: "must be between 1 and \(try Self.int(r, 1))")
        case "restocked": return try Self.events("restock", dealID, at: instant, [String(quantity)], r)
        default: throw Self.malformed(r)
        }
    }

    public func start(_ dealID: DealID, at instant: Instant) async throws -> [SequencedEvent] {
        try await Self.events("start", dealID, at: instant, [], gate(dealID, "start", at: instant))
    }

    public func end(_ dealID: DealID, at instant: Instant) async throws -> [SequencedEvent] {
        try await Self.events("end", dealID, at: instant, [], gate(dealID, "end", at: instant))
    }

    static let stockFields = ["status", "total", "available", "reserved", "sold", "iv", "dv"]

    public func stock(_ dealID: DealID) async throws -> DealStock? {
        try Self.stock(dealID, try await pool.send(["HMGET", keys(dealID)[0]] + Self.stockFields))
    }

    /// Every deal's counters in one pipelined round trip (a page of deals).
    public func stocks(_ dealIDs: [DealID]) async throws -> [DealID: DealStock] {
        let replies = try await pool.pipeline(dealIDs.map { ["HMGET", keys($0)[0]] + Self.stockFields })
        var result: [DealID: DealStock] = [:]
        for (id, reply) in zip(dealIDs, replies) { if let stock = try Self.stock(id, reply) { result[id] = stock } }
        return result
    }

    static func stock(_ dealID: DealID, _ reply: RedisReply) throws -> DealStock? {
        let values = reply.array
        guard values.count == stockFields.count, let statusText = values[0].string else { return nil }
        guard let status = DealStatus(rawValue: statusText) else { throw Self.malformed(values) }
        func n(_ i: Int) throws -> Int { guard let v = values[i].integer else { throw Self.malformed(values) }; return Int(v) }
        return DealStock(
            status: status,
            inventory: InventorySnapshot(dealID: dealID, total: try n(1), available: try n(2), reserved: try n(3), sold: try n(4), version: try n(5)),
            dealVersion: try n(6))
    }

    /// One pipelined round trip over every deal's expiry index.
    public func dueReservations(at instant: Instant, limit: Int) async throws -> [DueReservation] {
        let deals = try await Self.deals(on: pool, prefix: prefix)
        let maxScore = String(instant.nanosecondsSinceEpoch / 1_000_000)
        let replies = try await pool.pipeline(deals.map { ["ZRANGEBYSCORE", keys($0)[5], "-inf", maxScore, "LIMIT", "0", String(limit)] })
        var due: [DueReservation] = []
        for (dealID, reply) in zip(deals, replies) {
            due += try reply.array.compactMap(\.string).map { DueReservation(dealID: dealID, orderID: try OrderID(validating: $0)) }
        }
        return Array(due.prefix(limit))
    }

    /// The deal event (and sequence) at `index` and `index + 1` of a reply, when there is one.
    static func dealEvent(_ dealID: DealID, _ r: [RedisReply], at index: Int, _ instant: Instant) throws -> [SequencedEvent] {
        guard r.count > index + 1, let kind = r[index].string, !kind.isEmpty else { return [] }
        let event: DealEvent
        switch kind {
        case "soldOut": event = .soldOut(DealSoldOut(dealID: dealID, at: instant))
        case "reopened": event = .reopened(DealReopened(dealID: dealID, at: instant))
        default: throw Self.malformed(r)
        }
        return [SequencedEvent(stream: .deal(dealID), sequence: try Self.int(r, index + 1), event: .deal(event))]
    }

    static func int(_ r: [RedisReply], _ i: Int) throws -> Int {
        guard r.count > i, let v = r[i].integer else { throw Self.malformed(r) }
        return Int(v)
    }

    static func text(_ r: [RedisReply], _ i: Int) throws -> String {
        guard r.count > i, let v = r[i].string else { throw Self.malformed(r) }
        return v
    }

    static func malformed(_ r: [RedisReply]) -> RedisError {
        RedisError(.protocolError, "unexpected stock gate reply \(r)")
    }
}
