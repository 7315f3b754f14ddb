/// Events of the ``Inventory`` aggregate (stream `inventory/<deal id>`).
public enum InventoryEvent: Hashable, Sendable {
    case created(InventoryCreated)
    case reserved(StockReserved)
    case confirmed(StockConfirmed)
    case released(StockReleased)
    case expired(StockExpired)
    case returned(StockReturned)
    case restocked(StockRestocked)
}

/// A deal's stock was put on the shelf.
public struct InventoryCreated: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var total: Int
    public var perUserLimit: Int
    /// The deal's ``DealTerms/reservationCap`` (0: none).
    public var reservationCap: Int
    /// The deal's ``DealTerms/cancelCoolDown``, in nanoseconds (0: none).
    public var cancelCoolDownNanoseconds: Int64

    public init(dealID: DealID, total: Int, perUserLimit: Int, reservationCap: Int = 0, cancelCoolDown: Duration = .zero) {
        self.dealID = dealID
        self.total = total
        self.perUserLimit = perUserLimit
        self.reservationCap = reservationCap
        self.cancelCoolDownNanoseconds = cancelCoolDown.nanoseconds
    }

    enum CodingKeys: String, CodingKey { case dealID, total, perUserLimit, reservationCap, cancelCoolDownNanoseconds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dealID = try c.decode(DealID.self, forKey: .dealID)
        total = try c.decode(Int.self, forKey: .total)
        perUserLimit = try c.decode(Int.self, forKey: .perUserLimit)
        // Inventories created before these rules existed have none.
        reservationCap = try c.decodeIfPresent(Int.self, forKey: .reservationCap) ?? 0
        cancelCoolDownNanoseconds = try c.decodeIfPresent(Int64.self, forKey: .cancelCoolDownNanoseconds) ?? 0
    }
}

/// Units were taken off the shelf for an order until `expiresAt`.
public struct StockReserved: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var orderID: OrderID
    public var userID: UserID
    public var quantity: Int
    public var idempotencyKey: IdempotencyKey
    public var expiresAt: Instant
    public var at: Instant
    public init(dealID: DealID, orderID: OrderID, userID: UserID, quantity: Int, idempotencyKey: IdempotencyKey, expiresAt: Instant, at: Instant) {
        self.dealID = dealID
        self.orderID = orderID
        self.userID = userID
        self.quantity = quantity
        self.idempotencyKey = idempotencyKey
        self.expiresAt = expiresAt
        self.at = at
    }
}

/// A paid order's reserved units became sold.
public struct StockConfirmed: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var orderID: OrderID
    public var quantity: Int
    public var at: Instant
    public init(dealID: DealID, orderID: OrderID, quantity: Int, at: Instant) {
        self.dealID = dealID
        self.orderID = orderID
        self.quantity = quantity
        self.at = at
    }
}

/// A cancelled order's reserved units went back on the shelf.
public struct StockReleased: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var orderID: OrderID
    public var quantity: Int
    public var at: Instant
    public init(dealID: DealID, orderID: OrderID, quantity: Int, at: Instant) {
        self.dealID = dealID
        self.orderID = orderID
        self.quantity = quantity
        self.at = at
    }
}

/// An unpaid reservation lapsed and its units went back on the shelf.
public struct StockExpired: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var orderID: OrderID
    public var quantity: Int
    public var at: Instant
    public init(dealID: DealID, orderID: OrderID, quantity: Int, at: Instant) {
        self.dealID = dealID
        self.orderID = orderID
        self.quantity = quantity
        self.at = at
    }
}

/// A refunded order's sold units went back on the shelf.
public struct StockReturned: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var orderID: OrderID
    public var quantity: Int
    public var at: Instant
    public init(dealID: DealID, orderID: OrderID, quantity: Int, at: Instant) {
        self.dealID = dealID
        self.orderID = orderID
        self.quantity = quantity
        self.at = at
    }
}

/// New units were added.
public struct StockRestocked: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var quantity: Int
    public var at: Instant
    public init(dealID: DealID, quantity: Int, at: Instant) {
        self.dealID = dealID
        self.quantity = quantity
        self.at = at
    }
}
