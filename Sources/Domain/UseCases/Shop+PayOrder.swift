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

/// The points between the steps of `payOrder` where a test can cut the flow short, as a crash
/// would (``FaultInjector``). The reconciler must finish the attempt from any of them.
public enum PaymentStep: String, Hashable, Sendable, CaseIterable {
    /// The buyer's key is claimed; nothing else happened.
    case claimed
    /// The payment is stored as requested; the provider was not asked yet.
    case requested
    /// The provider charged; the payment is not completed yet.
    case charged
    /// The payment is completed; the stock is not confirmed yet.
    case completed
    /// The stock is confirmed (sold); the order is not marked paid yet.
    case confirmed
    /// The order is marked paid; its events are not recorded yet.
    case orderPaid
    /// The events are recorded; the claims are not settled yet.
    case recorded
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
    /// A flow cut short anywhere is finished by ``reconcilePayments(olderThan:limit:)``.
    public func payOrder(_ command: PayOrderCommand) async throws -> PayOrderOutcome {
        guard let order = try await ports.orders.order(command.orderID), order.userID == command.userID else {
            return .orderNotFound(command.orderID)
        }
        let now = await ports.clock.now()
        let scope = IdempotencyStoreKey(operation: Self.payOperation, userID: command.userID, key: command.idempotencyKey)
        let fresh = await ports.identifiers.makePaymentID()
        var paymentID = fresh
        if let found = try await ports.idempotency.claim(.pending(order: order.id, payment: fresh), for: scope, at: now) {
            guard found.order == order.id.rawValue else { return .idempotencyKeyReused(command.orderID) }
            guard let pending = found.pendingPayment else { return try await replay(found, orderID: order.id) }
            paymentID = pending
        }
        try await faults?.reach(.claimed)
        let outcome = try await pay(order, payment: paymentID, key: command.idempotencyKey, at: now)
        try await faults?.reach(.recorded)
        // The order's claim first (kept when paid, released otherwise), then the buyer's: a crash
        // between the two leaves the buyer's pending, which a retry or the reconciler settles.
        var orderResult: StoredResult?
        if case .paid = outcome { orderResult = outcome.stored }
        try await ports.idempotency.settle([(orderResult, Self.orderScope(order)), (outcome.stored, scope)])
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
        IdempotencyStoreKey(operation: orderPaymentOperation, userID: order.userID, key: IdempotencyKey(generated: order.id.rawValue))
    }

    /// One attempt: the order's payment in flight (`proposed`, unless another attempt holds one),
    /// charged, completed, confirmed, the order marked paid; or declined, or refunded.
    private func pay(_ order: Order, payment proposed: PaymentID, key: IdempotencyKey, at now: Instant) async throws -> PayOrderOutcome {
        var paymentID = proposed
        let inFlight = try await ports.idempotency.claim(.pending(order: order.id, payment: proposed), for: Self.orderScope(order), at: now)
        if let inFlight {
            if let pending = inFlight.pendingPayment { paymentID = pending } else {
                // The order's payment ended paid: answer from the order as it is.
                let current = try await ports.orders.order(order.id) ?? order
                return current.status == .paid ? .paid(current) : .notPayable(current, refunded: false)
            }
        }
        var payment: Payment
        // A payment is stored only under the order's claim: one this call just made has none yet.
        if inFlight != nil, let existing = try await ports.payments.payment(paymentID) {
            // Joined or resumed: its last event again, in case a crash came before it was recorded.
            payment = existing
            try await record([existing.lastEvent].compactMap { $0 }, at: now)
        } else {
            switch order.payability(at: now) {
            case .alreadyPaid: return .paid(order)
            case .notPayable: return .notPayable(order, refunded: false)
            case .windowClosed: return .paymentWindowClosed(order)
            case .expired:
                let expired = order.status == .expired ? order : try await expire(order.dealID, order.id, at: now)
                return .reservationExpired(expired, refunded: false)
            case .payable: break
            }
            let requested = PaymentRequested(paymentID: paymentID, orderID: order.id, amount: order.amount, idempotencyKey: key, at: now)
            payment = Payment(requested)
            do {
                try await ports.payments.save(payment, expectedVersion: 0)
                try await record([SequencedEvent(stream: .payment(paymentID), sequence: 1, event: .payment(.requested(requested)))], at: now)
            } catch is VersionConflict {
                payment = try await ports.payments.payment(paymentID) ?? payment  // a concurrent duplicate stored it first
            }
        }
        try await faults?.reach(.requested)
        var events: [SequencedEvent] = []
        switch payment.status {
        case .requested:
            // The provider de-duplicates by this key: a retry, a duplicate or the reconciler never charges twice.
            let charge = try await ports.gateway.charge(paymentID, amount: payment.amount, idempotencyKey: Self.providerKey(paymentID))
            try await faults?.reach(.charged)
            let completedAt = await ports.clock.now()
            if case .declined(let reason) = charge {
                let (_, failed) = try await transition(payment, .fail, at: completedAt, reason: reason)
                try await record([failed].compactMap { $0 }, at: completedAt)
                return .paymentDeclined(try await ports.orders.order(order.id) ?? order, reason: reason)
            }
            let completed: SequencedEvent?
            (payment, completed) = try await transition(payment, .complete, at: completedAt)
            events += [completed].compactMap { $0 }
            try await faults?.reach(.completed)
        case .completed:
            break
        case .failed:
            return .paymentDeclined(try await ports.orders.order(order.id) ?? order, reason: payment.failureReason ?? "")
        case .refunded:
            let current = try await ports.orders.order(order.id) ?? order
            return current.status == .expired ? .reservationExpired(current, refunded: true) : .notPayable(current, refunded: true)
        }
        return try await settle(order, payment, events: events)
    }

    /// A completed charge: confirm the units and mark the order paid, or refund it when the units
    /// are no longer the order's.
    private func settle(_ order: Order, _ payment: Payment, events: [SequencedEvent]) async throws -> PayOrderOutcome {
        let now = await ports.clock.now()
        let confirm = try await ports.ledger.confirm(order.dealID, order.id, at: now)
        var events = events + confirm.events
        switch confirm.decision {
        case .confirm, .alreadyConfirmed:
            // Already confirmed means by this payment: it is the order's only one in flight.
            try await faults?.reach(.confirmed)
            let (paid, orderEvent) = try await transition(order.id, .pay, at: now, paymentID: payment.id, known: order)
            try await faults?.reach(.orderPaid)
            events += [orderEvent ?? (paid.status == .paid ? paid.lastEvent : nil)].compactMap { $0 }
            try await record(events, at: now)
            guard paid.status == .paid, paid.paymentID == payment.id else { return .notPayable(paid, refunded: false) }
            return .paid(paid)
        case .expire, .notReserved:
            // Charged, but the units are not ours to sell: refund, and never confirm.
            try await ports.gateway.refund(payment.id, amount: payment.amount)
            let (_, refunded) = try await transition(payment, .refund, at: now)
            events += [refunded].compactMap { $0 }
            var current = try await ports.orders.order(order.id) ?? order
            if case .expire = confirm.decision {
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
