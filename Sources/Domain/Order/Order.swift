/// One buyer's order for units of one deal.
///
/// Invariants: `quantity >= 1`; `placedAt < paymentDeadline <= expiresAt`; it is paid at most
/// once and only while reserved; every transition follows ``OrderStatus/next(on:)``.
public struct Order: Hashable, Sendable, Codable {
    public let id: OrderID
    public let dealID: DealID
    public let userID: UserID
    public let quantity: Int
    public let unitPrice: Money
    public let idempotencyKey: IdempotencyKey
    public let placedAt: Instant
    /// When the reservation lapses and the units return to the shelf.
    public let expiresAt: Instant
    /// The last instant a payment may be requested.
    public let paymentDeadline: Instant
    public private(set) var status: OrderStatus
    public private(set) var paymentID: PaymentID?
    public private(set) var version: Int
    /// When its last event happened (nil in documents stored before it was kept).
    public private(set) var updatedAt: Instant?

    public var amount: Money { unitPrice.times(quantity) }

    /// Creates an order from its placement event.
    public init(_ event: OrderPlaced) {
        id = event.orderID
        dealID = event.dealID
        userID = event.userID
        quantity = event.quantity
        unitPrice = event.unitPrice
        idempotencyKey = event.idempotencyKey
        placedAt = event.placedAt
        expiresAt = event.expiresAt
        paymentDeadline = event.paymentDeadline
        status = .reserved
        paymentID = nil
        version = 1
        updatedAt = event.placedAt
    }

    /// The event for `trigger`, or `nil` when the transition is forbidden (nothing changes).
    public func decide(_ trigger: OrderStatus.Trigger, at instant: Instant, paymentID: PaymentID? = nil) -> OrderEvent? {
        guard status.next(on: trigger) != nil else { return nil }
        switch trigger {
        case .pay:
            guard let paymentID else { preconditionFailure("paying order \(id) needs a payment id") }
            return .paid(OrderPaid(orderID: id, paymentID: paymentID, at: instant))
        case .cancel: return .cancelled(OrderCancelled(orderID: id, at: instant))
        case .expire: return .expired(OrderExpired(orderID: id, at: instant))
        case .refund:
            return .refunded(OrderRefunded(orderID: id, paymentID: self.paymentID ?? paymentID, at: instant))
        }
    }

    /// This order after `trigger` and the event that makes it so, with its sequence number; nil
    /// when the transition is forbidden.
    public func after(_ trigger: OrderStatus.Trigger, at instant: Instant, paymentID: PaymentID? = nil) -> (Order, SequencedEvent)? {
        guard let event = decide(trigger, at: instant, paymentID: paymentID) else { return nil }
        var next = self
        next.apply(event, sequence: version + 1)
        return (next, SequencedEvent(stream: .order(id), sequence: next.version, event: .order(event)))
    }

    /// Applies one of this order's events with its sequence number. For events the Domain just
    /// decided: one the order cannot take is a programmer error and traps. Events read from outside
    /// go through ``applying(_:sequence:)``.
    public mutating func apply(_ event: OrderEvent, sequence: Int) {
        do { try applying(event, sequence: sequence) } catch { preconditionFailure("\(error)") }
    }

    /// Applies one of this order's events, or throws (changing nothing) when the order cannot take
    /// it in its state: the path for events read from outside (Kafka, the event store).
    public mutating func applying(_ event: OrderEvent, sequence: Int) throws(ReplayError) {
        guard let trigger = event.trigger else { version = sequence; return }
        guard let next = status.next(on: trigger) else {
            throw ReplayError.illegalTransition("order \(id) is \(status) and cannot take \(event)")
        }
        if case .paid(let e) = event { paymentID = e.paymentID }
        updatedAt = event.at
        status = next
        version = sequence
    }

    /// Rebuilds an order from its events in sequence order. Events read from outside (Kafka, the
    /// event store) may break the rules: an event the order cannot take throws, it never traps.
    public init(replaying events: [(sequence: Int, event: OrderEvent)]) throws(ReplayError) {
        guard case .placed(let placed)? = events.first?.event else { throw ReplayError.missingCreation("order") }
        self.init(placed)
        for (sequence, event) in events.dropFirst() {
            guard event.trigger != nil else { throw ReplayError.illegalTransition("order \(id) cannot take a second \(event)") }
            try applying(event, sequence: sequence)
        }
    }
}

extension Order {
    /// The event that brought the order to where it is, rebuilt from the stored order, with its
    /// sequence: a flow resumed after a crash records it again (the same id and content, so the
    /// event store keeps it once) in case the crash came between saving the order and recording.
    public var lastEvent: SequencedEvent? {
        guard let at = updatedAt else { return nil }
        let event: OrderEvent
        switch status {
        case .reserved:
            event = .placed(OrderPlaced(
                orderID: id, dealID: dealID, userID: userID, quantity: quantity, unitPrice: unitPrice, idempotencyKey: idempotencyKey,
                placedAt: placedAt, expiresAt: expiresAt, paymentDeadline: paymentDeadline))
        case .paid:
            guard let paymentID else { return nil }
            event = .paid(OrderPaid(orderID: id, paymentID: paymentID, at: at))
        case .cancelled: event = .cancelled(OrderCancelled(orderID: id, at: at))
        case .expired: event = .expired(OrderExpired(orderID: id, at: at))
        case .refunded: event = .refunded(OrderRefunded(orderID: id, paymentID: paymentID, at: at))
        }
        return SequencedEvent(stream: .order(id), sequence: version, event: .order(event))
    }
}

extension OrderEvent {
    /// When it happened.
    public var at: Instant {
        switch self {
        case .placed(let e): e.placedAt
        case .paid(let e): e.at
        case .cancelled(let e): e.at
        case .expired(let e): e.at
        case .refunded(let e): e.at
        }
    }

    /// The transition this event records (nil for the placement, which creates the order).
    public var trigger: OrderStatus.Trigger? {
        switch self {
        case .placed: nil
        case .paid: .pay
        case .cancelled: .cancel
        case .expired: .expire
        case .refunded: .refund
        }
    }
}
