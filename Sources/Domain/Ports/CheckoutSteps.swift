/// The money path's writes that must change the units and the order together, each one atomic
/// step.
///
/// Around a payment's charge, `open` claims the buyer's key and the order's one payment in flight
/// and stores the requested payment; `complete` confirms the reserved units and, only when they
/// are confirmed, marks the order paid, completes the payment, records both events and settles
/// both claims. `cancel` releases a reservation and, only when it released it, marks the order
/// cancelled and records its event. `refund` returns a paid order's units and marks the order and
/// its payment refunded, records their events and settles the refund's claim. No state in between is ever stored: stock is never sold to an
/// order left unpaid or released from one left reserved, and an order is never paid without its
/// units. Adapters: the Redis one runs each step as one script (one round trip);
/// ``SequentialCheckoutSteps`` runs them as the other ports' own calls, in order, for the
/// in-memory shop, where each call is atomic and a crash loses the whole process anyway.
public protocol CheckoutSteps: Sendable {
    func open(_ opening: PaymentOpening) async throws -> PaymentOpened
    /// Throws ``VersionConflict`` when the order or payment is no longer at its expected version;
    /// nothing changed then, the units included.
    func complete(_ completion: PaymentCompletion) async throws -> LedgerResult<ConfirmDecision>
    /// Returns the release's events; none when the units were no longer reserved (confirmed by a
    /// payment, or expired), and then nothing was written. Throws ``VersionConflict`` when the order
    /// is no longer at its expected version; nothing changed then, the units included.
    func cancel(_ cancellation: OrderCancellation) async throws -> [SequencedEvent]
    /// Returns the units still sold to the order and, in the same step, writes the refunded order
    /// and payment, their events and the settled claims (whether or not units were returned: an
    /// earlier attempt may have). Returns the return's events. Throws ``VersionConflict`` when the
    /// order or payment is no longer at its expected version; nothing changed then, the units
    /// included.
    func refund(_ refund: OrderRefund) async throws -> [SequencedEvent]
}

/// What `cancel` writes once the reservation is released.
public struct OrderCancellation: Sendable {
    public var dealID: DealID
    /// The order cancelled, and the version it was read at.
    public var order: Order
    public var expectedVersion: Int
    /// The order's event.
    public var events: [EventEnvelope]
    public var at: Instant

    public init(dealID: DealID, order: Order, expectedVersion: Int, events: [EventEnvelope], at: Instant) {
        self.dealID = dealID
        self.order = order
        self.expectedVersion = expectedVersion
        self.events = events
        self.at = at
    }
}

/// What `open` claims and stores.
public struct PaymentOpening: Sendable {
    /// The buyer's key, claimed first; a record there stops the step.
    public var buyer: IdempotencyStoreKey
    /// The order's payment in flight, claimed next; a record there stops the step (the buyer's
    /// claim stays).
    public var order: IdempotencyStoreKey
    /// What both claims hold: pending, bound to the order and the proposed payment.
    public var claim: StoredResult
    /// The requested payment (its first version) and its event, stored when both claims are new;
    /// nil when the order cannot be paid now.
    public var payment: Payment?
    public var events: [EventEnvelope]
    public var at: Instant

    public init(buyer: IdempotencyStoreKey, order: IdempotencyStoreKey, claim: StoredResult, payment: Payment?, events: [EventEnvelope], at: Instant) {
        self.buyer = buyer
        self.order = order
        self.claim = claim
        self.payment = payment
        self.events = events
        self.at = at
    }
}

public enum PaymentOpened: Hashable, Sendable {
    /// Both claims are this attempt's; the payment (when given) is stored.
    case opened
    /// The buyer's key had a record: nothing was done.
    case buyerClaimed(StoredResult)
    /// The buyer's key is claimed; the order's payment in flight had a record.
    case orderClaimed(StoredResult)
}

/// What `complete` writes once the units are confirmed (now, or by an earlier attempt of the
/// same payment).
public typealias PaymentCompletion = OrderPaymentWrite
/// What `refund` writes with the units' return.
public typealias OrderRefund = OrderPaymentWrite

/// An order and its payment changed at their expected versions, their events and the claims to
/// settle, written in one step with a change of the order's units (``CheckoutSteps``).
public struct OrderPaymentWrite: Sendable {
    public var dealID: DealID
    public var orderID: OrderID
    /// The order as it becomes (paid, refunded) and the version it was read at; nil when it
    /// already is.
    public var order: (order: Order, expectedVersion: Int)?
    /// The payment as it becomes (completed, refunded) and the version it was read at; nil when it
    /// already is (or the order has none).
    public var payment: (payment: Payment, expectedVersion: Int)?
    /// The order's and the payment's events (the units' own the ledger records).
    public var events: [EventEnvelope]
    /// The claims to settle, in order.
    public var claims: [(StoredResult?, IdempotencyStoreKey)]
    public var at: Instant

    public init(
        dealID: DealID, orderID: OrderID, order: (order: Order, expectedVersion: Int)?, payment: (payment: Payment, expectedVersion: Int)?,
        events: [EventEnvelope], claims: [(StoredResult?, IdempotencyStoreKey)], at: Instant
    ) {
        self.dealID = dealID
        self.orderID = orderID
        self.order = order
        self.payment = payment
        self.events = events
        self.claims = claims
        self.at = at
    }
}

/// The steps as the ports' own calls in order: each call is atomic, the sequence is not. A
/// version conflict after the units were confirmed throws as the atomic step would; the caller
/// decides again and completes once more, and the ledger answers `alreadyConfirmed`.
public struct SequentialCheckoutSteps: CheckoutSteps {
    let ports: Shop.Ports

    public init(ports: Shop.Ports) { self.ports = ports }

    public func open(_ opening: PaymentOpening) async throws -> PaymentOpened {
        if let found = try await ports.idempotency.claim(opening.claim, for: opening.buyer, at: opening.at) { return .buyerClaimed(found) }
        if let found = try await ports.idempotency.claim(opening.claim, for: opening.order, at: opening.at) { return .orderClaimed(found) }
        guard let payment = opening.payment else { return .opened }
        do {
            try await ports.payments.save(payment, expectedVersion: 0)
            try await ports.events.append(opening.events, expected: .any)
        } catch is VersionConflict {}  // stored by an attempt this one replaced
        return .opened
    }

    public func complete(_ completion: PaymentCompletion) async throws -> LedgerResult<ConfirmDecision> {
        let confirm = try await ports.ledger.confirm(completion.dealID, completion.orderID, at: completion.at)
        switch confirm.decision {
        case .confirm, .alreadyConfirmed:
            if let (order, expected) = completion.order { try await ports.orders.save(order, expectedVersion: expected) }
            if let (payment, expected) = completion.payment { try await ports.payments.save(payment, expectedVersion: expected) }
            // The units' events too, as every use case records a ledger's events (a ledger that
            // journals them itself is not asked to keep them: appending is idempotent).
            try await ports.events.append(confirm.events.map { $0.envelope(at: completion.at) } + completion.events, expected: .any)
            try await ports.idempotency.settle(completion.claims)
        case .expire, .notReserved:
            break
        }
        return confirm
    }

    /// The versions are checked before the return; a change between the check and the saves (a
    /// concurrent request on the same order) throws after the units went back, and the caller,
    /// deciding again, finds the order refunded.
    public func refund(_ refund: OrderRefund) async throws -> [SequencedEvent] {
        if let (order, expected) = refund.order, try await ports.orders.order(order.id)?.version != expected {
            throw VersionConflict(stream: "order/\(order.id)", expected: expected, actual: -1)
        }
        if let (payment, expected) = refund.payment, try await ports.payments.payment(payment.id)?.version != expected {
            throw VersionConflict(stream: "payment/\(payment.id)", expected: expected, actual: -1)
        }
        let returned = try await ports.ledger.returnSold(refund.dealID, refund.orderID, at: refund.at)
        if let (order, expected) = refund.order { try await ports.orders.save(order, expectedVersion: expected) }
        if let (payment, expected) = refund.payment { try await ports.payments.save(payment, expectedVersion: expected) }
        try await ports.events.append(returned.map { $0.envelope(at: refund.at) } + refund.events, expected: .any)
        try await ports.idempotency.settle(refund.claims)
        return returned
    }

    /// The order's version is checked before the release; a change between the check and the save
    /// (a concurrent request on the same order) is decided again on the order as stored.
    public func cancel(_ cancellation: OrderCancellation) async throws -> [SequencedEvent] {
        let id = cancellation.order.id
        guard let stored = try await ports.orders.order(id), stored.version == cancellation.expectedVersion else {
            throw VersionConflict(stream: "order/\(id)", expected: cancellation.expectedVersion, actual: -1)
        }
        let released = try await ports.ledger.release(cancellation.dealID, id, at: cancellation.at)
        guard !released.isEmpty else { return [] }
        var events = released.map { $0.envelope(at: cancellation.at) }
        do {
            try await ports.orders.save(cancellation.order, expectedVersion: cancellation.expectedVersion)
            events += cancellation.events
        } catch is VersionConflict {
            // Released already: cancel the order as it now is.
            let (_, event) = try await Shop(ports: ports).transition(id, .cancel, at: cancellation.at)
            events += [event].compactMap { $0?.envelope(at: cancellation.at) }
        }
        try await ports.events.append(events, expected: .any)
        return released
    }
}
