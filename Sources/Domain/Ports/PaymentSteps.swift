/// The money path's two writes around the provider's charge, each one atomic step.
///
/// `open` claims the buyer's key and the order's one payment in flight and stores the requested
/// payment; `complete` confirms the reserved units and, only when they are confirmed, marks the
/// order paid, completes the payment, records both events and settles both claims. No state in
/// between is ever stored: stock is never sold to an order left unpaid, and an order is never
/// paid without its units. Adapters: the Redis one runs each step as one script (one round trip);
/// ``SequentialPaymentSteps`` runs them as the other ports' own calls, in order, for the
/// in-memory shop, where each call is atomic and a crash loses the whole process anyway.
public protocol PaymentSteps: Sendable {
    func open(_ opening: PaymentOpening) async throws -> PaymentOpened
    /// Throws ``VersionConflict`` when the order or payment is no longer at its expected version;
    /// nothing changed then, the units included.
    func complete(_ completion: PaymentCompletion) async throws -> LedgerResult<ConfirmDecision>
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
public struct PaymentCompletion: Sendable {
    public var dealID: DealID
    public var orderID: OrderID
    /// The order marked paid and the version it was read at; nil when it already is.
    public var order: (order: Order, expectedVersion: Int)?
    /// The payment completed and the version it was read at; nil when it already is.
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
public struct SequentialPaymentSteps: PaymentSteps {
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
}
