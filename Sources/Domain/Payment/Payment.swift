/// A charge for one order. Invariant: refunded only after completed; completed or failed once.
public struct Payment: Hashable, Sendable, Codable {
    public let id: PaymentID
    public let orderID: OrderID
    public let amount: Money
    public let idempotencyKey: IdempotencyKey
    public private(set) var status: PaymentStatus
    public private(set) var failureReason: String?
    public private(set) var version: Int
    /// When its last event happened (nil in documents stored before it was kept).
    public private(set) var updatedAt: Instant?

    public init(_ event: PaymentRequested) {
        id = event.paymentID
        orderID = event.orderID
        amount = event.amount
        idempotencyKey = event.idempotencyKey
        status = .requested
        failureReason = nil
        version = 1
        updatedAt = event.at
    }

    /// The event for `trigger`, or `nil` when the transition is forbidden.
    public func decide(_ trigger: PaymentStatus.Trigger, at instant: Instant, reason: String = "") -> PaymentEvent? {
        guard status.next(on: trigger) != nil else { return nil }
        switch trigger {
        case .complete: return .completed(PaymentCompleted(paymentID: id, orderID: orderID, at: instant))
        case .fail: return .failed(PaymentFailed(paymentID: id, orderID: orderID, reason: reason, at: instant))
        case .refund: return .refunded(PaymentRefunded(paymentID: id, orderID: orderID, amount: amount, at: instant))
        }
    }

    /// This payment after `trigger` and the event that makes it so, with its sequence number; nil
    /// when the transition is forbidden.
    public func after(_ trigger: PaymentStatus.Trigger, at instant: Instant, reason: String = "") -> (Payment, SequencedEvent)? {
        guard let event = decide(trigger, at: instant, reason: reason) else { return nil }
        var next = self
        next.apply(event, sequence: version + 1)
        return (next, SequencedEvent(stream: .payment(id), sequence: next.version, event: .payment(event)))
    }

    /// The payment `requested` starts, and its first event.
    public static func requesting(_ requested: PaymentRequested) -> (Payment, SequencedEvent) {
        (Payment(requested), SequencedEvent(stream: .payment(requested.paymentID), sequence: 1, event: .payment(.requested(requested))))
    }

    /// Applies one of this payment's events. For events the Domain just decided (one the payment
    /// cannot take traps); events read from outside go through ``applying(_:sequence:)``.
    public mutating func apply(_ event: PaymentEvent, sequence: Int) {
        do { try applying(event, sequence: sequence) } catch { preconditionFailure("\(error)") }
    }

    /// Applies one of this payment's events, or throws (changing nothing) when the payment cannot
    /// take it in its state.
    public mutating func applying(_ event: PaymentEvent, sequence: Int) throws(ReplayError) {
        guard let trigger = event.trigger else { version = sequence; return }
        guard let next = status.next(on: trigger) else {
            throw ReplayError.illegalTransition("payment \(id) is \(status) and cannot take \(event)")
        }
        if case .failed(let e) = event { failureReason = e.reason }
        updatedAt = event.at
        status = next
        version = sequence
    }

    public init(replaying events: [(sequence: Int, event: PaymentEvent)]) throws(ReplayError) {
        guard case .requested(let requested)? = events.first?.event else {
            throw ReplayError.missingCreation("payment")
        }
        self.init(requested)
        for (sequence, event) in events.dropFirst() {
            guard event.trigger != nil else { throw ReplayError.illegalTransition("payment \(id) cannot take a second \(event)") }
            try applying(event, sequence: sequence)
        }
    }

    /// The event that brought the payment to where it is, rebuilt from the stored payment (see
    /// ``Order/lastEvent``).
    public var lastEvent: SequencedEvent? {
        guard let at = updatedAt else { return nil }
        let event: PaymentEvent
        switch status {
        case .requested:
            event = .requested(PaymentRequested(paymentID: id, orderID: orderID, amount: amount, idempotencyKey: idempotencyKey, at: at))
        case .completed: event = .completed(PaymentCompleted(paymentID: id, orderID: orderID, at: at))
        case .failed: event = .failed(PaymentFailed(paymentID: id, orderID: orderID, reason: failureReason ?? "", at: at))
        case .refunded: event = .refunded(PaymentRefunded(paymentID: id, orderID: orderID, amount: amount, at: at))
        }
        return SequencedEvent(stream: .payment(id), sequence: version, event: .payment(event))
    }
}

extension PaymentEvent {
    /// The transition this event records (nil for the request, which creates the payment).
    public var trigger: PaymentStatus.Trigger? {
        switch self {
        case .requested: nil
        case .completed: .complete
        case .failed: .fail
        case .refunded: .refund
        }
    }

    /// When it happened.
    public var at: Instant {
        switch self {
        case .requested(let e): e.at
        case .completed(let e): e.at
        case .failed(let e): e.at
        case .refunded(let e): e.at
        }
    }
}
