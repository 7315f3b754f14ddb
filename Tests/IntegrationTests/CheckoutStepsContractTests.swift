import Domain
import DomainMemory
import Foundation
import LiveAPI
import LiveRedis
import LiveRuntime
import Testing

/// The money path's two steps, one contract for the in-memory shop's ports in sequence and for
/// the Redis scripts: `open` claims the buyer's key, then the order's, and stores the requested
/// payment only when both are new; `complete` changes nothing on a version race (the units
/// included), writes the order, payment, events and claims only when the units are confirmed, and
/// nothing but the units' expiry when the reservation has lapsed; `cancel` releases the units and
/// cancels the order together, or changes nothing; `refund` returns the units and refunds the order
/// and payment together, or changes nothing.
@Suite struct CheckoutStepsContractTests {
    enum Kind: String, CaseIterable, Sendable { case memory, redis }
    static var kinds: [Kind] { Backends.redisURL == nil ? [.memory] : Kind.allCases }

    struct Rig {
        var ledger: any StockLedger
        var orders: any OrderRepository
        var payments: any PaymentRepository
        var idempotency: any IdempotencyStore
        var steps: any CheckoutSteps
        /// The event types the steps recorded for orders and payments, in order.
        var recorded: @Sendable () async throws -> [String]
    }

    static func rig(_ kind: Kind) async throws -> Rig {
        switch kind {
        case .memory:
            let memory = InMemoryShop()
            let ports = memory.shop.ports
            return Rig(
                ledger: ports.ledger, orders: ports.orders, payments: ports.payments, idempotency: ports.idempotency,
                steps: SequentialCheckoutSteps(ports: ports),
                recorded: { await memory.events.readAll(from: 0, limit: 1000).map(\.envelope).filter(Self.isMoney).map(\.type) })
        case .redis:
            let pool = try await Backends.redisPool()
            let prefix = Backends.uniquePrefix()
            let ledger = try await RedisStockLedger(pool: pool, prefix: prefix)
            let orders = try await RedisOrderRepository(pool: pool, prefix: prefix, durable: nil)
            let payments = try await RedisPaymentRepository(pool: pool, prefix: prefix, durable: nil)
            let idempotency = RedisIdempotencyStore(pool: pool, prefix: prefix)
            let outbox = RedisOutbox(pool: pool, prefix: prefix, journalled: true)
            let steps = try await RedisCheckoutSteps(ledger: ledger, orders: orders, payments: payments, idempotency: idempotency, outbox: outbox)
            return Rig(
                ledger: ledger, orders: orders, payments: payments, idempotency: idempotency, steps: steps,
                recorded: {
                    // Each entry: [id, [field, value, ...]]; the events field holds a JSON array.
                    let entries = try await pool.send(["XRANGE", outbox.key("d-1"), "-", "+"]).array
                    return try entries.flatMap { entry -> [String] in
                        let fields = entry.array.last?.array.compactMap(\.string) ?? []
                        guard let at = fields.firstIndex(of: "events"), at + 1 < fields.count else { return [] }
                        return try JSONDecoder().decode([EventEnvelope].self, from: Data(fields[at + 1].utf8)).map(\.type)
                    }
                })
        }
    }

    static func isMoney(_ event: EventEnvelope) -> Bool {
        switch event.payload {
        case .payment, .order(.paid), .order(.cancelled), .order(.refunded): true
        default: false
        }
    }

    static let start = Instant.seconds(1_700_000_000)

    /// A live deal and a reserved order `o-<n>` of user `u-<n>`, stored at version 1.
    static func reserved(_ rig: Rig, _ n: Int, ttl: Int64 = 600) async throws -> Order {
        if try await rig.ledger.stock("d-1") == nil {
            let terms = try DealTerms(
                id: "d-1", productID: "p-1", price: Money(minorUnits: 500), startsAt: start, endsAt: start + .seconds(3600), perUserLimit: 2,
                reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 10)
            _ = try await rig.ledger.create(terms)
            _ = try await rig.ledger.start("d-1", at: start)
        }
        let request = ReserveRequest(orderID: OrderID(generated: HashSlot.placing("o-\(n)", with: "d-1")), userID: UserID("u-\(n)"), quantity: 1, idempotencyKey: "k", expiresAt: start + .seconds(ttl))
        guard case .reserve(let reserved) = try await rig.ledger.reserve("d-1", request, at: start).decision else { throw Unexpected() }
        let order = Order(OrderPlaced(
            orderID: reserved.orderID, dealID: "d-1", userID: reserved.userID, quantity: 1, unitPrice: Money(minorUnits: 500),
            idempotencyKey: "k", placedAt: start, expiresAt: reserved.expiresAt, paymentDeadline: start + .seconds(min(ttl, 300))))
        try await rig.orders.save(order, expectedVersion: 0)
        return order
    }

    struct Unexpected: Error {}

    static func scopes(_ order: Order, key: String) -> (buyer: IdempotencyStoreKey, order: IdempotencyStoreKey) {
        (IdempotencyStoreKey(operation: "payOrder", userID: order.userID, key: IdempotencyKey(key), dealID: order.dealID),
         IdempotencyStoreKey(operation: "payOrder.order", userID: order.userID, key: IdempotencyKey(generated: order.id.rawValue), dealID: order.dealID))
    }

    static func opening(_ order: Order, key: String, payment id: PaymentID) -> (PaymentOpening, Payment) {
        // The payment in its order's hash slot, as `RandomIdentifiers` makes it.
        let id = PaymentID(generated: HashSlot.placing(id.rawValue, like: order.id.rawValue))
        let requested = PaymentRequested(paymentID: id, orderID: order.id, amount: order.amount, idempotencyKey: IdempotencyKey(key), at: start)
        let event = SequencedEvent(stream: .payment(id), sequence: 1, event: .payment(.requested(requested)))
        let (buyer, scope) = scopes(order, key: key)
        let claim = StoredResult(outcome: "pending", subject: id.rawValue, order: order.id.rawValue)
        return (PaymentOpening(buyer: buyer, order: scope, claim: claim, payment: Payment(requested), events: [event.envelope(at: start)], at: start), Payment(requested))
    }

    /// The order and the payment after their triggers, with their events (the payment's first).
    static func after(
        _ order: Order, _ orderTrigger: OrderStatus.Trigger, _ payment: Payment, _ paymentTrigger: PaymentStatus.Trigger, at: Instant
    ) -> (Order, Payment, [EventEnvelope]) {
        let (changedOrder, orderEvent) = order.after(orderTrigger, at: at, paymentID: payment.id)!
        let (changedPayment, paymentEvent) = payment.after(paymentTrigger, at: at)!
        return (changedOrder, changedPayment, [paymentEvent, orderEvent].map { $0.envelope(at: at) })
    }

    /// The order paid and the payment completed by it, with their events, and both claims' result.
    static func completion(_ order: Order, _ payment: Payment, key: String, orderVersion: Int? = nil, at: Instant) -> PaymentCompletion {
        let (paid, completed, events) = after(order, .pay, payment, .complete, at: at)
        let (buyer, scope) = scopes(order, key: key)
        let result = StoredResult(outcome: "paid", subject: order.id.rawValue, order: order.id.rawValue)
        return PaymentCompletion(
            dealID: order.dealID, orderID: order.id, order: (paid, orderVersion ?? order.version), payment: (completed, payment.version),
            events: events, claims: [(result, scope), (result, buyer)], at: at)
    }

    @Test(arguments: kinds)
    func openClaimsTheBuyerThenTheOrderAndStoresThePaymentOnce(_ kind: Kind) async throws {
        let rig = try await Self.rig(kind)
        let order = try await Self.reserved(rig, 1)
        let (opening, payment) = Self.opening(order, key: "pay", payment: "pay-1")
        #expect(try await rig.steps.open(opening) == .opened)
        #expect(try await rig.payments.payment(payment.id) == payment)
        #expect(try await rig.recorded() == ["PaymentRequested"])
        let pending = Set(try await rig.idempotency.pendingClaims(before: Self.start + .seconds(1), limit: 10))
        #expect(pending == [opening.buyer, opening.order])

        // The same key again: its record, and nothing else done.
        let (again, _) = Self.opening(order, key: "pay", payment: "pay-2")
        #expect(try await rig.steps.open(again) == .buyerClaimed(opening.claim))
        // Another key for the same order: that key is claimed, the order's record is found.
        let (other, _) = Self.opening(order, key: "other", payment: "pay-3")
        #expect(try await rig.steps.open(other) == .orderClaimed(opening.claim))
        #expect(try await rig.idempotency.result(for: other.buyer) == other.claim)
        let unstored = [try await rig.payments.payment(try #require(again.payment).id), try await rig.payments.payment(try #require(other.payment).id)]
        #expect(unstored == [nil, nil])
        #expect(try await rig.recorded() == ["PaymentRequested"])
    }

    @Test(arguments: kinds)
    func completeWritesEverythingOnlyWithTheUnitsAndNothingOnARace(_ kind: Kind) async throws {
        let rig = try await Self.rig(kind)
        let order = try await Self.reserved(rig, 1)
        let (opening, payment) = Self.opening(order, key: "pay", payment: "pay-1")
        _ = try await rig.steps.open(opening)
        let at = Self.start + .seconds(10)

        // The order is not at the version the completion read it at: nothing changes on Redis,
        // where the step is atomic; the sequence confirms first and the retry finds it confirmed.
        if kind == .redis {
            await #expect(throws: VersionConflict.self) { _ = try await rig.steps.complete(Self.completion(order, payment, key: "pay", orderVersion: 7, at: at)) }
            #expect(try await rig.ledger.stock("d-1")?.inventory.reserved == 1)
            #expect(try await rig.orders.order(order.id) == order)
        }

        let done = try await rig.steps.complete(Self.completion(order, payment, key: "pay", at: at))
        guard case .confirm = done.decision else { Issue.record("\(done.decision)"); return }
        #expect(done.events.map(\.event.typeName) == ["StockConfirmed"])
        #expect(try await rig.orders.order(order.id)?.status == .paid)
        #expect(try await rig.payments.payment(payment.id)?.status == .completed)
        #expect(try await rig.recorded() == ["PaymentRequested", "PaymentCompleted", "OrderPaid"])
        let paid = StoredResult(outcome: "paid", subject: order.id.rawValue, order: order.id.rawValue)
        #expect(try await rig.idempotency.result(for: opening.buyer) == paid)
        #expect(try await rig.idempotency.result(for: opening.order) == paid)
        #expect(try await rig.idempotency.pendingClaims(before: at + .seconds(1), limit: 10).isEmpty)
        let inventory = try #require(try await rig.ledger.stock("d-1")).inventory
        #expect(inventory.sold == 1 && inventory.reserved == 0)

        // Nothing left to change: the units answer that they are confirmed.
        let again = PaymentCompletion(dealID: "d-1", orderID: order.id, order: nil, payment: nil, events: [], claims: [], at: at)
        #expect(try await rig.steps.complete(again).decision == .alreadyConfirmed)
    }

    @Test(arguments: kinds)
    func aLapsedReservationExpiresAndNothingElseIsWritten(_ kind: Kind) async throws {
        let rig = try await Self.rig(kind)
        let order = try await Self.reserved(rig, 2, ttl: 60)
        let (opening, payment) = Self.opening(order, key: "pay", payment: "pay-9")
        _ = try await rig.steps.open(opening)
        let late = Self.start + .seconds(61)
        let done = try await rig.steps.complete(Self.completion(order, payment, key: "pay", at: late))
        guard case .expire = done.decision else { Issue.record("\(done.decision)"); return }
        #expect(try await rig.orders.order(order.id) == order)
        #expect(try await rig.payments.payment(payment.id) == payment)
        #expect(try await rig.recorded() == ["PaymentRequested"])
        #expect(Set(try await rig.idempotency.pendingClaims(before: late, limit: 10)) == [opening.buyer, opening.order], "left for the refund to settle")
        let inventory = try #require(try await rig.ledger.stock("d-1")).inventory
        #expect(inventory.sold == 0 && inventory.reserved == 0 && inventory.available == 10)
    }

    /// The order and payment refunded with their events and the refund's claim settled, from the
    /// order and payment as `paid` left them.
    static func refund(_ paid: Order, _ payment: Payment, orderVersion: Int? = nil, at: Instant) -> OrderRefund {
        let (refunded, refundedPayment, events) = after(paid, .refund, payment, .refund, at: at)
        return OrderRefund(
            dealID: paid.dealID, orderID: paid.id, order: (refunded, orderVersion ?? paid.version), payment: (refundedPayment, payment.version),
            events: events, claims: [(nil, refundScope(paid))], at: at)
    }

    /// A reserved order `o-<n>` opened and paid with payment `pay-<n>`: both as stored.
    static func paid(_ rig: Rig, _ n: Int, at: Instant) async throws -> (Order, Payment) {
        let order = try await reserved(rig, n)
        let (opening, payment) = opening(order, key: "pay", payment: PaymentID("pay-\(n)"))
        _ = try await rig.steps.open(opening)
        _ = try await rig.steps.complete(completion(order, payment, key: "pay", at: at))
        return (try #require(try await rig.orders.order(order.id)), try #require(try await rig.payments.payment(payment.id)))
    }

    static func refundScope(_ order: Order) -> IdempotencyStoreKey {
        IdempotencyStoreKey(operation: "cancelOrder.refund", userID: order.userID, key: IdempotencyKey(generated: order.id.rawValue), dealID: order.dealID)
    }

    @Test(arguments: kinds)
    func refundReturnsTheUnitsAndRefundsTogetherOrChangesNothing(_ kind: Kind) async throws {
        let rig = try await Self.rig(kind)
        let at = Self.start + .seconds(10)
        let (paid, completed) = try await Self.paid(rig, 5, at: at)
        let order = paid
        let claim = StoredResult(outcome: "pending", subject: completed.id.rawValue, order: order.id.rawValue)
        #expect(try await rig.idempotency.claim(claim, for: Self.refundScope(order), at: at) == nil)
        let later = at + .seconds(5)

        await #expect(throws: VersionConflict.self) { _ = try await rig.steps.refund(Self.refund(paid, completed, orderVersion: 9, at: later)) }
        #expect(try await rig.ledger.stock("d-1")?.inventory.sold == 1, "a version race returns nothing")
        #expect(try await rig.orders.order(order.id) == paid)
        #expect(try await rig.payments.payment(completed.id) == completed)

        let returned = try await rig.steps.refund(Self.refund(paid, completed, at: later))
        #expect(returned.map(\.event.typeName) == ["StockReturned"])
        #expect(try await rig.orders.order(order.id)?.status == .refunded)
        #expect(try await rig.payments.payment(completed.id)?.status == .refunded)
        #expect(try await rig.recorded() == ["PaymentRequested", "PaymentCompleted", "OrderPaid", "PaymentRefunded", "OrderRefunded"])
        #expect(try await rig.idempotency.result(for: Self.refundScope(order)) == nil, "the claim is settled")
        #expect(try await rig.idempotency.pendingClaims(before: later + .seconds(1), limit: 10).isEmpty)
        let inventory = try #require(try await rig.ledger.stock("d-1")).inventory
        #expect(inventory.sold == 0 && inventory.available == 10)

        // Units no longer sold to the order (returned by an earlier path): the refund is still written.
        let (paid6, completed6) = try await Self.paid(rig, 6, at: at)
        let other = paid6
        _ = try await rig.ledger.returnSold("d-1", other.id, at: at)
        #expect(try await rig.steps.refund(Self.refund(paid6, completed6, at: later)).isEmpty)
        #expect(try await rig.orders.order(other.id)?.status == .refunded)
        #expect(try await rig.payments.payment(completed6.id)?.status == .refunded)
        #expect(try await rig.ledger.stock("d-1")?.inventory.available == 10, "returned once")
    }

    @Test(arguments: kinds)
    func cancelReleasesAndCancelsTogetherOrChangesNothing(_ kind: Kind) async throws {
        let rig = try await Self.rig(kind)
        let order = try await Self.reserved(rig, 3)
        let at = Self.start + .seconds(5)
        var cancelled = order
        let event = try #require(order.decide(.cancel, at: at))
        cancelled.apply(event, sequence: 2)
        let envelope = SequencedEvent(stream: .order(order.id), sequence: 2, event: .order(event)).envelope(at: at)

        await #expect(throws: VersionConflict.self) {
            _ = try await rig.steps.cancel(OrderCancellation(dealID: "d-1", order: cancelled, expectedVersion: 4, events: [envelope], at: at))
        }
        #expect(try await rig.ledger.stock("d-1")?.inventory.reserved == 1, "a version race releases nothing")
        #expect(try await rig.orders.order(order.id) == order)

        let released = try await rig.steps.cancel(OrderCancellation(dealID: "d-1", order: cancelled, expectedVersion: 1, events: [envelope], at: at))
        #expect(released.map(\.event.typeName) == ["StockReleased"])
        #expect(try await rig.orders.order(order.id)?.status == .cancelled)
        #expect(try await rig.recorded() == ["OrderCancelled"])
        let inventory = try #require(try await rig.ledger.stock("d-1")).inventory
        #expect(inventory.reserved == 0 && inventory.available == 10)

        // Units no longer reserved (a payment confirmed them): nothing released, nothing written.
        let sold = try await Self.reserved(rig, 4)
        _ = try await rig.ledger.confirm("d-1", sold.id, at: at)
        var soldCancelled = sold
        soldCancelled.apply(try #require(sold.decide(.cancel, at: at)), sequence: 2)
        #expect(try await rig.steps.cancel(OrderCancellation(dealID: "d-1", order: soldCancelled, expectedVersion: 1, events: [], at: at)).isEmpty)
        #expect(try await rig.orders.order(sold.id) == sold)
    }
}
