/// Events of the ``Payment`` aggregate (stream `payment/<id>`).
public enum PaymentEvent: Hashable, Sendable {
    case requested(PaymentRequested)
    case completed(PaymentCompleted)
    case failed(PaymentFailed)
    case refunded(PaymentRefunded)
}

public struct PaymentRequested: Hashable, Sendable, Codable {
    public var paymentID: PaymentID
    public var orderID: OrderID
    public var amount: Money
    public var idempotencyKey: IdempotencyKey
    public var at: Instant
    public init(paymentID: PaymentID, orderID: OrderID, amount: Money, idempotencyKey: IdempotencyKey, at: Instant) {
        self.paymentID = paymentID
        self.orderID = orderID
        self.amount = amount
        self.idempotencyKey = idempotencyKey
        self.at = at
    }
}

public struct PaymentCompleted: Hashable, Sendable, Codable {
    public var paymentID: PaymentID
    public var orderID: OrderID
    public var at: Instant
    public init(paymentID: PaymentID, orderID: OrderID, at: Instant) {
        self.paymentID = paymentID
        self.orderID = orderID
        self.at = at
    }
}

public struct PaymentFailed: Hashable, Sendable, Codable {
    public var paymentID: PaymentID
    public var orderID: OrderID
    public var reason: String
    public var at: Instant
    public init(paymentID: PaymentID, orderID: OrderID, reason: String, at: Instant) {
        self.paymentID = paymentID
        self.orderID = orderID
        self.reason = reason
        self.at = at
    }
}

public struct PaymentRefunded: Hashable, Sendable, Codable {
    public var paymentID: PaymentID
    public var orderID: OrderID
    public var amount: Money
    public var at: Instant
    public init(paymentID: PaymentID, orderID: OrderID, amount: Money, at: Instant) {
        self.paymentID = paymentID
        self.orderID = orderID
        self.amount = amount
        self.at = at
    }
}
