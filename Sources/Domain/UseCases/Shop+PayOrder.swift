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
}

extension Shop {
    static let payOperation = "payOrder"

    /// Pays an order within its payment window. A completed charge confirms the reserved units,
    /// unless the reservation has lapsed: then the charge is refunded and nothing is sold, so a
    /// late payment can never oversell. A retried key returns the first outcome.
    public func payOrder(_ command: PayOrderCommand) async throws -> PayOrderOutcome {
        let scope = IdempotencyStoreKey(operation: Self.payOperation, userID: command.userID, key: command.idempotencyKey)
        if let stored = try await ports.idempotency.result(for: scope) {
            return try await replay(stored, orderID: command.orderID)
        }
        let outcome = try await pay(command)
        let stored = try await ports.idempotency.remember(outcome.stored, for: scope)
        return stored == outcome.stored ? outcome : try await replay(stored, orderID: command.orderID)
    }

    private func pay(_ command: PayOrderCommand) async throws -> PayOrderOutcome {
        guard let order = try await ports.orders.order(command.orderID), order.userID == command.userID else {
            return .orderNotFound(command.orderID)
        }
        let now = await ports.clock.now()
        switch order.payability(at: now) {
        case .alreadyPaid: return .paid(order)
        case .notPayable: return .notPayable(order, refunded: false)
        case .windowClosed: return .paymentWindowClosed(order)
        case .expired:
            let expired = order.status == .expired ? order : try await expire(order.dealID, order.id, at: now)
            return .reservationExpired(expired, refunded: false)
        case .payable: break
        }

        let requested = PaymentRequested(
            paymentID: await ports.identifiers.makePaymentID(), orderID: order.id, amount: order.amount,
            idempotencyKey: command.idempotencyKey, at: now)
        var payment = Payment(requested)
        try await ports.payments.save(payment, expectedVersion: 0)
        try await record([SequencedEvent(stream: .payment(payment.id), sequence: 1, event: .payment(.requested(requested)))], at: now)

        let charge = try await ports.gateway.charge(payment.id, amount: payment.amount, idempotencyKey: command.idempotencyKey)
        let completedAt = await ports.clock.now()
        if case .declined(let reason) = charge {
            let (_, failed) = try await transition(payment, .fail, at: completedAt, reason: reason)
            try await record([failed].compactMap { $0 }, at: completedAt)
            return .paymentDeclined(order, reason: reason)
        }
        let completed: SequencedEvent?
        (payment, completed) = try await transition(payment, .complete, at: completedAt)
        let confirm = try await ports.ledger.confirm(order.dealID, order.id, at: completedAt)
        if case .confirm = confirm.decision {
            let (paid, orderEvent) = try await transition(order.id, .pay, at: completedAt, paymentID: payment.id)
            try await record([completed].compactMap { $0 } + confirm.events + [orderEvent].compactMap { $0 }, at: completedAt)
            return .paid(paid)
        }
        // Charged, but the units are not ours to sell: refund, and never confirm.
        try await ports.gateway.refund(payment.id, amount: payment.amount)
        let (_, refunded) = try await transition(payment, .refund, at: completedAt)
        var events = [completed, refunded].compactMap { $0 } + confirm.events
        var current = try await ports.orders.order(order.id) ?? order
        if case .expire = confirm.decision {
            let expired: SequencedEvent?
            (current, expired) = try await transition(order.id, .expire, at: completedAt)
            events += [expired].compactMap { $0 }
        }
        try await record(events, at: completedAt)
        switch current.status {
        case .expired: return .reservationExpired(current, refunded: true)
        case .paid: return .paid(current)  // another payment confirmed it first; this one was refunded
        default: return .notPayable(current, refunded: true)
        }
    }

    /// Answers a retry from the stored outcome and the order as it is now.
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

extension PayOrderOutcome {
    /// What the idempotency store keeps of this outcome.
    var stored: StoredResult {
        switch self {
        case .paid(let o): StoredResult(outcome: "paid", subject: o.id.rawValue)
        case .reservationExpired(let o, let refunded):
            StoredResult(outcome: refunded ? "reservationExpiredRefunded" : "reservationExpired", subject: o.id.rawValue)
        case .paymentDeclined(_, let reason): StoredResult(outcome: "paymentDeclined", subject: reason)
        case .paymentWindowClosed(let o): StoredResult(outcome: "paymentWindowClosed", subject: o.id.rawValue)
        case .notPayable(let o, let refunded):
            StoredResult(outcome: refunded ? "notPayableRefunded" : "notPayable", subject: o.id.rawValue)
        case .orderNotFound(let id): StoredResult(outcome: "orderNotFound", subject: id.rawValue)
        }
    }
}
