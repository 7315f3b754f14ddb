public import Domain
import LiveRuntime
import Foundation

/// The money path's atomic steps on Redis, one script each, so a payment is three round trips
/// around the provider's charge (the order read, `open`, `complete`) instead of ten, and a
/// cancellation before payment two (the order read, `cancel`) instead of four.
///
/// `open` is `openScript`; `complete` is the stock gate script's `pay` operation, so the units'
/// confirmation and everything that must go with it (the order paid, the payment completed, their
/// events in the deal's outbox, both claims settled) is one atomic step, journalled as the confirmation;
/// `cancel` is its `cancel` operation (the release, the order cancelled, its event), journalled as
/// the release; `refund` its `refund` operation (the sold units returned, the order and payment
/// refunded, their events, the refund's claim settled), journalled as the return.
/// The keys are the other Redis adapters' own (`RedisIdempotencyStore`, `RedisOrderRepository`,
/// `RedisPaymentRepository`, `RedisOutbox`, the gate's): the steps write the same records those
/// read. Every key of a step is in its deal's hash slot (the gate's `{deal}` tag, the claims' and
/// the outbox's too, the order's and payment's through the slot their ids carry: `HashSlot`), so a
/// Redis Cluster runs each step atomically on the deal's primary, as a single Redis does. Orders
/// whose ids carry no slot (made before it was carried) still work on a single Redis.
public struct RedisCheckoutSteps: CheckoutSteps {
    let ledger: RedisStockLedger
    let orders: RedisOrderRepository
    let payments: RedisPaymentRepository
    let idempotency: RedisIdempotencyStore
    let outbox: RedisOutbox
    let openScript: RedisScript

    /// KEYS: the buyer's claim, the order's claim, the pending-claims listing, the payment, the
    /// outbox. ARGV: the claim's JSON, the buyer's and the order's listing, the time claimed (ms),
    /// the claims' ttl (s), the payment's version, JSON ('' for none) and ttl (ms), the events' JSON
    /// ('' for none), the caller's W3C `traceparent` ('' untraced). A claim is listed in the same step it is stored, as `RedisIdempotencyStore`
    /// does.
    static let openSource = RedisOrderRepository.documentFunctions + #"""
    local found = redis.call('GET', KEYS[1])
    if found then return {'buyer', found} end
    redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[2])
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
    found = redis.call('GET', KEYS[2])
    if found then return {'order', found} end
    redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[3])
    redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[5])
    if ARGV[7] ~= '' and not stale(KEYS[4], '0') then
      save(KEYS[4], ARGV[6], ARGV[7], ARGV[8])
      if ARGV[9] ~= '' and ARGV[10] ~= '' then redis.call('XADD', KEYS[5], '*', 'tp', ARGV[10], 'events', ARGV[9])
      elseif ARGV[9] ~= '' then redis.call('XADD', KEYS[5], '*', 'events', ARGV[9]) end
    end
    return {'opened'}
    """#

    public init(
        ledger: RedisStockLedger, orders: RedisOrderRepository, payments: RedisPaymentRepository, idempotency: RedisIdempotencyStore,
        outbox: RedisOutbox
    ) async throws {
        self.ledger = ledger
        self.orders = orders
        self.payments = payments
        self.idempotency = idempotency
        self.outbox = outbox
        openScript = try await RedisScript(Self.openSource, on: ledger.pool)
    }

    public func open(_ opening: PaymentOpening) async throws -> PaymentOpened {
        let payment = try opening.payment.map { (String($0.version), try RedisOrderRepository.json($0)) }
        let reply = try await ledger.pool.traced("EVALSHA", "payment-open") { span in try await openScript.run(
            on: ledger.pool,
            keys: [idempotency.key(opening.buyer), idempotency.key(opening.order), idempotency.pendingKey(opening.order.dealID),
                   payments.key(opening.payment?.id ?? Self.noPayment(opening.order.dealID)), opening.order.dealID.map(outbox.key) ?? outbox.key],
            arguments: [
                try RedisIdempotencyStore.encode(opening.claim), try RedisIdempotencyStore.encode(opening.buyer),
                try RedisIdempotencyStore.encode(opening.order), String(opening.at.nanosecondsSinceEpoch / 1_000_000), idempotency.seconds,
                payment?.0 ?? "", payment?.1 ?? "", payments.retentionMs, try outbox.entry(opening.events) ?? "",
                TraceContext.traceParent(span?.context),
            ]
        ).array }
        switch (reply.first?.string, reply.dropFirst().first?.string) {
        case ("opened", _): return .opened
        case ("buyer", let found?): return .buyerClaimed(try RedisIdempotencyStore.decode(StoredResult.self, found))
        case ("order", let found?): return .orderClaimed(try RedisIdempotencyStore.decode(StoredResult.self, found))
        default: throw RedisError(.protocolError, "unexpected payment opening reply \(reply)")
        }
    }

    public func complete(_ completion: PaymentCompletion) async throws -> LedgerResult<ConfirmDecision> {
        let (keys, arguments) = try writing(completion)
        return try await ledger.confirm(completion.dealID, completion.orderID, at: completion.at, completing: keys, arguments)
    }

    public func refund(_ refund: OrderRefund) async throws -> [SequencedEvent] {
        let (keys, arguments) = try writing(refund)
        return try await ledger.returnSold(refund.dealID, refund.orderID, at: refund.at, refunding: keys, arguments)
    }

    /// The gate script's keys and arguments for the order, payment, events and claims a `pay` or
    /// `refund` writes with the units' change.
    func writing(_ write: OrderPaymentWrite) throws -> (keys: [String], arguments: [String]) {
        func document(_ json: String?, expected: Int?, version: Int?) -> [String] {
            [expected.map(String.init) ?? "0", version.map(String.init) ?? "0", json ?? ""]
        }
        let order = try write.order.map { try RedisOrderRepository.json($0.order) }
        let payment = try write.payment.map { try RedisOrderRepository.json($0.payment) }
        var keys = [orders.key(write.orderID), payments.key(write.payment?.payment.id ?? Self.noPayment(write.dealID)),
                    idempotency.pendingKey(write.dealID), outbox.key(write.dealID)]
        var arguments = document(order, expected: write.order?.expectedVersion, version: write.order?.order.version) + [orders.retentionMs]
            + document(payment, expected: write.payment?.expectedVersion, version: write.payment?.payment.version) + [payments.retentionMs]
            + [try outbox.entry(write.events) ?? "", idempotency.seconds]
        for (result, scope) in write.claims {
            keys.append(idempotency.key(scope))
            arguments += [try result.map(RedisIdempotencyStore.encode) ?? "", try RedisIdempotencyStore.encode(scope)]
        }
        return (keys, arguments)
    }

    /// The payment key a step names when it writes no payment: one in the deal's slot, never written.
    static func noPayment(_ deal: DealID?) -> PaymentID { PaymentID(generated: deal.map { HashSlot.placing("none", with: $0) } ?? "none") }

    public func cancel(_ cancellation: OrderCancellation) async throws -> [SequencedEvent] {
        let order = cancellation.order
        let json = try RedisOrderRepository.json(order)
        return try await ledger.release(
            cancellation.dealID, order.id, at: cancellation.at, cancelling: [orders.key(order.id), outbox.key(cancellation.dealID)],
            [String(cancellation.expectedVersion), String(order.version), json, orders.retentionMs, try outbox.entry(cancellation.events) ?? ""])
    }
}
