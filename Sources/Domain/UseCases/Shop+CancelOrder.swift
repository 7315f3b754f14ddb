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

    private func refund(_ order: Order, at now: Instant) async throws -> CancelOrderOutcome {
        let returned = try await ports.ledger.returnSold(order.dealID, order.id, at: now)
        guard !returned.isEmpty else {
            return .notCancellable(try await ports.orders.order(order.id) ?? order)
        }
        var events = returned
        if let paymentID = order.paymentID, let payment = try await ports.payments.payment(paymentID) {
            try await ports.gateway.refund(paymentID, amount: payment.amount)
            let (_, refunded) = try await transition(payment, .refund, at: now)
            events += [refunded].compactMap { $0 }
        }
        let (refundedOrder, event) = try await transition(order.id, .refund, at: now)
        try await record(events + [event].compactMap { $0 }, at: now)
        return .refunded(refundedOrder)
    }
}
