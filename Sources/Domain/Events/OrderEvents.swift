/// Events of the ``Order`` aggregate (stream `order/<id>`).
public enum OrderEvent: Hashable, Sendable {
    case placed(OrderPlaced)
    case paid(OrderPaid)
    case cancelled(OrderCancelled)
    case expired(OrderExpired)
    case refunded(OrderRefunded)
}

/// A buyer's order was accepted with its units reserved.
public struct OrderPlaced: Hashable, Sendable, Codable {
    public var orderID: OrderID
    public var dealID: DealID
    public var userID: UserID
    public var quantity: Int
    public var unitPrice: Money
    public var idempotencyKey: IdempotencyKey
    public var placedAt: Instant
    public var expiresAt: Instant
    public var paymentDeadline: Instant
    public init(orderID: OrderID, dealID: DealID, userID: UserID, quantity: Int, unitPrice: Money, idempotencyKey: IdempotencyKey, placedAt: Instant, expiresAt: Instant, paymentDeadline: Instant) {
        self.orderID = orderID
        self.dealID = dealID
        self.userID = userID
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.idempotencyKey = idempotencyKey
        self.placedAt = placedAt
        self.expiresAt = expiresAt
        self.paymentDeadline = paymentDeadline
    }
}

public struct OrderPaid: Hashable, Sendable, Codable {
    public var orderID: OrderID
    public var paymentID: PaymentID
    public var at: Instant
    public init(orderID: OrderID, paymentID: PaymentID, at: Instant) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.at = at
    }
}

public struct OrderCancelled: Hashable, Sendable, Codable {
    public var orderID: OrderID
    public var at: Instant
    public init(orderID: OrderID, at: Instant) {
        self.orderID = orderID
        self.at = at
    }
}

public struct OrderExpired: Hashable, Sendable, Codable {
    public var orderID: OrderID
    public var at: Instant
    public init(orderID: OrderID, at: Instant) {
        self.orderID = orderID
        self.at = at
    }
}

public struct OrderRefunded: Hashable, Sendable, Codable {
    public var orderID: OrderID
    public var paymentID: PaymentID?
    public var at: Instant
    public init(orderID: OrderID, paymentID: PaymentID?, at: Instant) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.at = at
    }
}
