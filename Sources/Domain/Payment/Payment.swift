/// A charge for one order. Invariant: refunded only after completed; completed or failed once.
public struct Payment: Hashable, Sendable, Codable {
    public let id: PaymentID
    public let orderID: OrderID
    public let amount: Money
    public let idempotencyKey: IdempotencyKey
    public private(set) var status: PaymentStatus
    public private(set) var failureReason: String?
    public private(set) var version: Int

    public init(_ event: PaymentRequested) {
        id = event.paymentID
        orderID = event.orderID
        amount = event.amount
        idempotencyKey = event.idempotencyKey
        status = .requested
        failureReason = nil
        version = 1
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

    public mutating func apply(_ event: PaymentEvent, sequence: Int) {
        let trigger: PaymentStatus.Trigger
        switch event {
        case .requested: version = sequence; return
        case .completed: trigger = .complete
        case .failed(let e): trigger = .fail; failureReason = e.reason
        case .refunded: trigger = .refund
        }
        guard let next = status.next(on: trigger) else {
            preconditionFailure("event \(event) cannot apply to a payment that is \(status)")
        }
        status = next
        version = sequence
    }

    public init(replaying events: [(sequence: Int, event: PaymentEvent)]) throws(ReplayError) {
        guard case .requested(let requested)? = events.first?.event else {
            throw ReplayError.missingCreation("payment")
        }
        self.init(requested)
        for (sequence, event) in events.dropFirst() { apply(event, sequence: sequence) }
    }
}
