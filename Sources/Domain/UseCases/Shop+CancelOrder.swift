public struct CancelOrderCommand: Hashable, Sendable {
    public var orderID: OrderID
    public var userID: UserID

    public init(orderID: OrderID, userID: UserID) {
        self.orderID = orderID
        self.userID = userID
    }
}

public enum CancelOrderOutcome: Hashable, Sendable {
    /// Cancelled before payment; the units went back.
    case cancelled(Order)
    /// Cancelled after payment; the units went back and the charge was refunded.
    case refunded(Order)
    /// Already cancelled, expired or refunded: nothing changed.
    case notCancellable(Order)
    case orderNotFound(OrderID)
}

extension Shop {
    /// Cancels an order: before payment its units are released; after payment they are returned
    /// and the charge refunded. Cancelling twice changes nothing the second time.
    public func cancelOrder(_ command: CancelOrderCommand) async throws -> CancelOrderOutcome {
        guard let order = try await ports.orders.order(command.orderID), order.userID == command.userID else {
            return .orderNotFound(command.orderID)
        }
        return try await cancel(order, at: await ports.clock.now())
    }

    private func cancel(_ order: Order, at now: Instant) async throws -> CancelOrderOutcome {
        switch order.status {
        case .reserved: try await release(order, at: now)
        case .paid: try await refund(order, at: now)
        case .cancelled, .expired, .refunded: .notCancellable(order)
        }
    }

    /// Before payment: the units released and the order cancelled in one step
    /// (``CheckoutSteps/cancel(_:)``: on the live server one round trip). A version race changes
    /// nothing: the order is read and decided again.
    private func release(_ order: Order, at now: Instant) async throws -> CancelOrderOutcome {
        var order = order, attempt = 0
        while true {
            guard order.status == .reserved, let (cancelled, orderEvent) = order.after(.cancel, at: now) else { return try await cancel(order, at: now) }
            let released: [SequencedEvent]
            do {
                released = try await ports.steps.cancel(OrderCancellation(
                    dealID: order.dealID, order: cancelled, expectedVersion: order.version, events: [orderEvent.envelope(at: now)], at: now))
            } catch is VersionConflict where attempt < conflictRetries {
                attempt += 1
                guard let reread = try await ports.orders.order(order.id) else { throw UnknownOrderError(orderID: order.id) }
                order = reread
                continue
            }
            guard !released.isEmpty else {
                // The ledger no longer holds the reservation: a payment confirmed it or it expired.
                let current = try await ports.orders.order(order.id) ?? order
                return current.status == .paid ? try await refund(current, at: now) : .notCancellable(current)
            }
            try await publish(released + [orderEvent], at: now)
            return .cancelled(cancelled)
        }
    }

    static let refundOperation = "cancelOrder.refund"

    /// The scope that holds an order's refund in flight.
    static func refundScope(_ order: Order) -> IdempotencyStoreKey {
        IdempotencyStoreKey(operation: refundOperation, userID: order.userID, key: IdempotencyKey(generated: order.id.rawValue), dealID: order.dealID)
    }

    /// After payment: the order's refund claimed, the provider's refund (which it de-duplicates by
    /// the payment), then one step (``CheckoutSteps/refund(_:)``) that returns the units and marks
    /// the order and its payment refunded with their events, settling the claim. No state in
    /// between is stored: units are never back on the shelf for an order still paid. A flow cut
    /// short is finished by the buyer's retry or by ``reconcileRefunds(olderThan:limit:)``; every
    /// step is idempotent, so the buyer is refunded once and the units go back once.
    private func refund(_ order: Order, at now: Instant) async throws -> CancelOrderOutcome {
        guard let paymentID = order.paymentID, var payment = try await ports.payments.payment(paymentID) else {
            throw UnknownPaymentError(paymentID: order.paymentID ?? PaymentID(generated: "none"))
        }
        let scope = Self.refundScope(order)
        // A claim found is an earlier attempt's: this one finishes it.
        _ = try await ports.idempotency.claim(.pending(order: order.id, payment: paymentID), for: scope, at: now)
        try await faults?.reach(.refundClaimed)
        if payment.status != .refunded { try await ports.gateway.refund(paymentID, amount: payment.amount) }
        try await faults?.reach(.refundSent)
        var order = order, attempt = 0
        while true {
            let refundedPayment = payment.after(.refund, at: now), refunded = order.after(.refund, at: now)
            guard refundedPayment != nil || refunded != nil else {
                // Refunded already (a concurrent duplicate, or an attempt that finished before).
                try await ports.idempotency.settle(nil, for: scope)
                return .notCancellable(order)
            }
            let events = [refundedPayment?.1, refunded?.1].compactMap { $0 }
            let returned: [SequencedEvent]
            do {
                returned = try await ports.steps.refund(OrderRefund(
                    dealID: order.dealID, orderID: order.id, order: refunded.map { ($0.0, order.version) },
                    payment: refundedPayment.map { ($0.0, payment.version) }, events: events.map { $0.envelope(at: now) },
                    claims: [(nil, scope)], at: now))
            } catch is VersionConflict where attempt < conflictRetries {
                attempt += 1
                guard let reread = try await ports.orders.order(order.id) else { throw UnknownOrderError(orderID: order.id) }
                guard let current = try await ports.payments.payment(paymentID) else { throw UnknownPaymentError(paymentID: paymentID) }
                (order, payment) = (reread, current)
                continue
            }
            try await publish(returned + events, at: now)
            return .refunded(refunded?.0 ?? order)
        }
    }

    /// Finishes every refund claimed before `olderThan` ago and still pending: the ones a crash or
    /// a lost connection cut short between the claim and the step that records it. Each is run
    /// again (the provider de-duplicates the refund, the step returns the units once). Returns the
    /// outcomes, by order.
    @discardableResult
    public func reconcileRefunds(olderThan age: Duration, limit: Int = 100) async throws -> [OrderID: CancelOrderOutcome] {
        let now = await ports.clock.now()
        var finished: [OrderID: CancelOrderOutcome] = [:]
        for scope in try await ports.idempotency.pendingClaims(before: now - age, limit: limit) where scope.operation == Self.refundOperation {
            guard let order = try await ports.orders.order(OrderID(generated: scope.key.rawValue)) else {
                try await ports.idempotency.settle(nil, for: scope)  // nothing to finish
                continue
            }
            finished[order.id] = try await refund(order, at: now)
        }
        return finished
    }
}
