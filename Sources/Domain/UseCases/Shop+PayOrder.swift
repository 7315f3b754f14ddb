public struct PayOrderCommand: Hashable, Sendable {
    public var orderID: OrderID
    public var userID: UserID
    public var idempotencyKey: IdempotencyKey

    public init(orderID: OrderID, userID: UserID, idempotencyKey: IdempotencyKey) {
        self.orderID = orderID
        self.userID = userID
        self.idempotencyKey = idempotencyKey
    }
}

public enum PayOrderOutcome: Hashable, Sendable {
    case paid(Order)
    /// The reservation lapsed before the payment completed. When the provider had already
    /// charged, the charge was refunded (`refunded`); the units were never sold.
    case reservationExpired(Order, refunded: Bool)
    /// The provider declined; the order stays reserved and may be paid again until it expires.
    case paymentDeclined(Order, reason: String)
    /// The payment window closed; the order waits for its reservation to expire.
    case paymentWindowClosed(Order)
    /// The order was cancelled or refunded; any charge made was refunded.
    case notPayable(Order, refunded: Bool)
    case orderNotFound(OrderID)
    /// The idempotency key was first used to pay another order: nothing was done, and nothing of
    /// the other order is told.
    case idempotencyKeyReused(OrderID)
}

/// The points between the steps of `payOrder` and of a refund where a test can cut the flow
/// short, as a crash would (``FaultInjector``). The reconciler must finish the attempt from any of them. The units'
/// confirmation, the order marked paid, the payment completed and the claims settled are one
/// atomic step (``CheckoutSteps/complete(_:)``): there is no point between them.
public enum PaymentStep: String, Hashable, Sendable, CaseIterable {
    /// The buyer's key and the order are claimed (and, when the order was payable, the payment
    /// stored as requested in the same step).
    case claimed
    /// The payment is stored as requested; the provider was not asked yet.
    case requested
    /// The provider charged; nothing recorded it yet.
    case charged
    /// The payment is completed, the units sold and the order paid, atomically; its events are not
    /// published yet. Nothing is left to finish.
    case completed
    /// A refund (cancelling a paid order): its claim is stored; the provider was not asked yet.
    case refundClaimed
    /// The provider refunded; nothing recorded it yet (the units are still sold, the order paid).
    case refundSent

    /// The points of `payOrder`, and of a refund.
    public static let payment: [PaymentStep] = [.claimed, .requested, .charged, .completed]
    public static let refund: [PaymentStep] = [.refundClaimed, .refundSent]
}

/// Test-only fault injection: `reach` throws to stop a flow at a step. Production passes none.
public protocol FaultInjector: Sendable {
    func reach(_ step: PaymentStep) async throws
}

extension Shop {
    static let payOperation = "payOrder"
    /// The scope that holds an order's one payment in flight.
    static let orderPaymentOperation = "payOrder.order"

    /// Pays an order within its payment window, exactly once.
    ///
    /// The buyer's key is claimed before anything else and bound to the order; a retry or a
    /// concurrent duplicate with the key joins the same attempt, and a key reused for another
    /// order is refused. Every attempt for one order, whatever its key, uses the order's one
    /// payment in flight, whose id the provider de-duplicates charges by: the card is charged at
    /// most once. A completed charge confirms the reserved units, unless the reservation has
    /// lapsed: then the charge is refunded and nothing is sold, so a late payment never oversells.
    /// On the live server a payment is three Redis round trips around the provider's charge: the
    /// order read, ``CheckoutSteps/open(_:)`` and ``CheckoutSteps/complete(_:)``. A flow cut short
    /// anywhere is finished by ``reconcilePayments(olderThan:limit:)``.
    public func payOrder(_ command: PayOrderCommand) async throws -> PayOrderOutcome {
        guard let order = try await ports.orders.order(command.orderID), order.userID == command.userID else {
            return .orderNotFound(command.orderID)
        }
        let now = await ports.clock.now()
        let buyer = IdempotencyStoreKey(operation: Self.payOperation, userID: command.userID, key: command.idempotencyKey, dealID: order.dealID)
        let fresh = await ports.identifiers.makePaymentID(for: order.id)
        // Payable now: the requested payment is stored in the same step as the claims.
        let requesting = order.payability(at: now) == .payable ? Self.requesting(order, payment: fresh, key: command.idempotencyKey, at: now) : nil
        let (payment, requested) = (requesting?.0, requesting?.1)
        let opened = try await ports.steps.open(PaymentOpening(
            buyer: buyer, order: Self.orderScope(order), claim: .pending(order: order.id, payment: fresh), payment: payment,
            events: [requested].compactMap { $0?.envelope(at: now) }, at: now))
        var paymentID = fresh
        let claim: OrderClaim
        switch opened {
        case .opened:
            try await publish([requested].compactMap { $0 }, at: now)
            claim = .claimed(payment)
        case .buyerClaimed(let found):
            guard found.order == order.id.rawValue else { return .idempotencyKeyReused(command.orderID) }
            guard let pending = found.pendingPayment else { return try await replay(found, orderID: order.id) }
            paymentID = pending
            claim = .found(nil)
        case .orderClaimed(let inFlight):
            claim = .found(inFlight)
        }
        try await faults?.reach(.claimed)
        let (outcome, settled) = try await pay(order, payment: paymentID, key: command.idempotencyKey, buyer: buyer, claim: claim, at: now)
        guard !settled else { return outcome }
        // The order's claim first (kept when paid, released otherwise), then the buyer's: a crash
        // between the two leaves the buyer's pending, which a retry or the reconciler settles.
        var orderResult: StoredResult?
        if case .paid = outcome { orderResult = outcome.stored }
        try await ports.idempotency.settle([(orderResult, Self.orderScope(order)), (outcome.stored, buyer)])
        return outcome
    }

    /// Finishes every payment attempt claimed before `olderThan` ago and still pending: the ones a
    /// crash or a lost connection cut short. Each is run again from its claim; every step is
    /// idempotent (the provider de-duplicates the charge, the ledger confirms once, the order and
    /// payment change once), so it ends charged and sold once, or refunded once. Returns the
    /// outcomes, by order.
    @discardableResult
    public func reconcilePayments(olderThan age: Duration, limit: Int = 100) async throws -> [OrderID: PayOrderOutcome] {
        let now = await ports.clock.now()
        var finished: [OrderID: PayOrderOutcome] = [:]
        for scope in try await ports.idempotency.pendingClaims(before: now - age, limit: limit) where scope.operation == Self.payOperation {
            guard let claim = try await ports.idempotency.result(for: scope) else {
                try await ports.idempotency.settle(nil, for: scope)  // expired or released: nothing to finish
                continue
            }
            guard claim.pendingPayment != nil, let order = claim.order.map(OrderID.init(generated:)) else {
                try await ports.idempotency.settle(claim, for: scope)  // finished; only its listing was left
                continue
            }
            finished[order] = try await payOrder(PayOrderCommand(orderID: order, userID: scope.userID, idempotencyKey: scope.key))
        }
        return finished
    }

    static func orderScope(_ order: Order) -> IdempotencyStoreKey {
        IdempotencyStoreKey(operation: orderPaymentOperation, userID: order.userID, key: IdempotencyKey(generated: order.id.rawValue), dealID: order.dealID)
    }

    /// The order's payment in flight as `payOrder` found it.
    private enum OrderClaim {
        /// This attempt claimed it, and stored this payment with the claim (nil: the order was not
        /// payable when claimed).
        case claimed(Payment?)
        /// Another attempt's record (nil: not looked at yet; claim it now).
        case found(StoredResult?)
    }

    /// One attempt: the order's payment in flight (`proposed`, unless another attempt holds one),
    /// charged, then completed with the units confirmed and the order paid in one step; or
    /// declined, or refunded. `settled`: the claims were settled with the completion.
    private func pay(
        _ order: Order, payment proposed: PaymentID, key: IdempotencyKey, buyer: IdempotencyStoreKey, claim: OrderClaim, at now: Instant
    ) async throws -> (PayOrderOutcome, settled: Bool) {
        var paymentID = proposed
        var stored: Payment?
        switch claim {
        case .claimed(let payment):
            stored = payment
        case .found(let found):
            var inFlight = found
            if found == nil { inFlight = try await ports.idempotency.claim(.pending(order: order.id, payment: proposed), for: Self.orderScope(order), at: now) }
            if let inFlight {
                guard let pending = inFlight.pendingPayment else {
                    // The order's payment ended paid: answer from the order as it is.
                    let current = try await ports.orders.order(order.id) ?? order
                    return (current.status == .paid ? .paid(current) : .notPayable(current, refunded: false), false)
                }
                paymentID = pending
                // Joined or resumed: its last event again, in case a crash came before it was recorded.
                if let existing = try await ports.payments.payment(paymentID) {
                    stored = existing
                    try await record([existing.lastEvent].compactMap { $0 }, at: now)
                }
            }
        }
        var payment: Payment
        if let stored {
            payment = stored
        } else {
            switch order.payability(at: now) {
            case .alreadyPaid: return (.paid(order), false)
            case .notPayable: return (.notPayable(order, refunded: false), false)
            case .windowClosed: return (.paymentWindowClosed(order), false)
            case .expired:
                let expired = order.status == .expired ? order : try await expire(order.dealID, order.id, at: now)
                return (.reservationExpired(expired, refunded: false), false)
            case .payable: break
            }
            let requested: SequencedEvent
            (payment, requested) = Self.requesting(order, payment: paymentID, key: key, at: now)
            do {
                try await ports.payments.save(payment, expectedVersion: 0)
                try await record([requested], at: now)
            } catch is VersionConflict {
                payment = try await ports.payments.payment(paymentID) ?? payment  // a concurrent duplicate stored it first
            }
        }
        try await faults?.reach(.requested)
        switch payment.status {
        case .requested:
            // The provider de-duplicates by this key: a retry, a duplicate or the reconciler never charges twice.
            let charge = try await ports.gateway.charge(paymentID, amount: payment.amount, idempotencyKey: Self.providerKey(paymentID))
            try await faults?.reach(.charged)
            if case .declined(let reason) = charge {
                let failedAt = await ports.clock.now()
                let (_, failed) = try await transition(payment, .fail, at: failedAt, reason: reason)
                try await record([failed].compactMap { $0 }, at: failedAt)
                return (.paymentDeclined(try await ports.orders.order(order.id) ?? order, reason: reason), false)
            }
        case .completed:
            break
        case .failed:
            return (.paymentDeclined(try await ports.orders.order(order.id) ?? order, reason: payment.failureReason ?? ""), false)
        case .refunded:
            let current = try await ports.orders.order(order.id) ?? order
            return (current.status == .expired ? .reservationExpired(current, refunded: true) : .notPayable(current, refunded: true), false)
        }
        return try await complete(order, payment, buyer: buyer)
    }

    /// A charge made: the units confirmed, the payment completed, the order paid and both claims
    /// settled in one step; or, when the units are no longer the order's, the charge refunded.
    /// A version race (a concurrent duplicate changed the order or payment) changes nothing: both
    /// are read again and decided again.
    private func complete(_ order: Order, _ payment: Payment, buyer: IdempotencyStoreKey) async throws -> (PayOrderOutcome, settled: Bool) {
        var order = order, payment = payment, attempt = 0
        while true {
            let now = await ports.clock.now()
            switch payment.status {
            case .requested, .completed: break
            case .failed: return (.paymentDeclined(order, reason: payment.failureReason ?? ""), false)
            case .refunded: return (.notPayable(order, refunded: true), false)
            }
            var completed = payment, paid = order
            var events: [SequencedEvent] = []
            if let (next, event) = payment.after(.complete, at: now) {
                completed = next
                events.append(event)
            }
            if let (next, event) = order.after(.pay, at: now, paymentID: payment.id) {
                paid = next
                events.append(event)
            } else if order.paymentID != payment.id {
                // Cancelled or expired meanwhile: the units are not this payment's to sell.
                return (try await refund(order, payment, confirm: nil, at: now), false)
            }
            let result = PayOrderOutcome.paid(paid).stored
            let confirm: LedgerResult<ConfirmDecision>
            do {
                confirm = try await ports.steps.complete(PaymentCompletion(
                    dealID: order.dealID, orderID: order.id,
                    order: paid.version == order.version ? nil : (paid, order.version),
                    payment: completed.version == payment.version ? nil : (completed, payment.version),
                    events: events.map { $0.envelope(at: now) }, claims: [(result, Self.orderScope(order)), (result, buyer)], at: now))
            } catch is VersionConflict where attempt < conflictRetries {
                attempt += 1
                guard let reread = try await ports.orders.order(order.id) else { throw UnknownOrderError(orderID: order.id) }
                guard let current = try await ports.payments.payment(payment.id) else { throw UnknownPaymentError(paymentID: payment.id) }
                (order, payment) = (reread, current)
                continue
            }
            switch confirm.decision {
            case .confirm, .alreadyConfirmed:
                // Already confirmed means by this payment: it is the order's only one in flight.
                try await faults?.reach(.completed)
                try await publish(confirm.events + events, at: now)
                return (.paid(paid), true)
            case .expire, .notReserved:
                return (try await refund(order, payment, confirm: confirm, at: now), false)
            }
        }
    }

    /// Charged, but the units are not the order's to sell: refund, and never confirm. A lapsed
    /// reservation the ledger just expired (`confirm`) expires the order too.
    private func refund(_ order: Order, _ charged: Payment, confirm: LedgerResult<ConfirmDecision>?, at now: Instant) async throws -> PayOrderOutcome {
        try await ports.gateway.refund(charged.id, amount: charged.amount)
        var events = confirm?.events ?? []
        var payment = charged
        for trigger in [PaymentStatus.Trigger.complete, .refund] {
            let event: SequencedEvent?
            (payment, event) = try await transition(payment, trigger, at: now)
            events += [event].compactMap { $0 }
        }
        var current = try await ports.orders.order(order.id) ?? order
        if case .expire? = confirm?.decision {
            let expired: SequencedEvent?
            (current, expired) = try await transition(order.id, .expire, at: now)
            events += [expired].compactMap { $0 }
        }
        try await record(events, at: now)
        switch current.status {
        case .expired: return .reservationExpired(current, refunded: true)
        case .paid: return .paid(current)
        default: return .notPayable(current, refunded: true)
        }
    }

    /// The payment `id` of `order` as requested with the buyer's `key`, and its first event.
    static func requesting(_ order: Order, payment id: PaymentID, key: IdempotencyKey, at now: Instant) -> (Payment, SequencedEvent) {
        Payment.requesting(PaymentRequested(paymentID: id, orderID: order.id, amount: order.amount, idempotencyKey: key, at: now))
    }

    /// The key the provider de-duplicates a charge by: derived from the payment, which the
    /// buyer's key and the order's claim fix, so every retry sends the same one.
    static func providerKey(_ payment: PaymentID) -> IdempotencyKey { IdempotencyKey(generated: "charge-\(payment)") }

    /// Answers a retry from the stored outcome and the order as it is now (the order the key was
    /// first used for).
    private func replay(_ stored: StoredResult, orderID: OrderID) async throws -> PayOrderOutcome {
        guard let order = try await ports.orders.order(orderID) else { return .orderNotFound(orderID) }
        switch stored.outcome {
        case "paid": return .paid(order)
        case "reservationExpired": return .reservationExpired(order, refunded: false)
        case "reservationExpiredRefunded": return .reservationExpired(order, refunded: true)
        case "paymentDeclined": return .paymentDeclined(order, reason: stored.subject)
        case "paymentWindowClosed": return .paymentWindowClosed(order)
        case "notPayableRefunded": return .notPayable(order, refunded: true)
        case "notPayable": return .notPayable(order, refunded: false)
        default: return .orderNotFound(orderID)
        }
    }
}

extension StoredResult {
    /// A claim in progress: the payment it uses, bound to the order.
    static func pending(order: OrderID, payment: PaymentID) -> StoredResult {
        StoredResult(outcome: "pending", subject: payment.rawValue, order: order.rawValue)
    }

    /// The payment of a claim still in progress (nil once settled).
    var pendingPayment: PaymentID? { outcome == "pending" ? PaymentID(generated: subject) : nil }
}

extension PayOrderOutcome {
    /// What the idempotency store keeps of this outcome, bound to its order.
    var stored: StoredResult {
        switch self {
        case .paid(let o): StoredResult(outcome: "paid", subject: o.id.rawValue, order: o.id.rawValue)
        case .reservationExpired(let o, let refunded):
            StoredResult(outcome: refunded ? "reservationExpiredRefunded" : "reservationExpired", subject: o.id.rawValue, order: o.id.rawValue)
        case .paymentDeclined(let o, let reason): StoredResult(outcome: "paymentDeclined", subject: reason, order: o.id.rawValue)
        case .paymentWindowClosed(let o): StoredResult(outcome: "paymentWindowClosed", subject: o.id.rawValue, order: o.id.rawValue)
        case .notPayable(let o, let refunded):
            StoredResult(outcome: refunded ? "notPayableRefunded" : "notPayable", subject: o.id.rawValue, order: o.id.rawValue)
        case .orderNotFound(let id), .idempotencyKeyReused(let id): StoredResult(outcome: "orderNotFound", subject: id.rawValue, order: id.rawValue)
        }
    }
}
