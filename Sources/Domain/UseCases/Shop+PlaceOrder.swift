/// A buyer's request to order units of a deal.
public struct PlaceOrderCommand: Hashable, Sendable {
    public var dealID: DealID
    public var userID: UserID
    public var quantity: Int
    public var idempotencyKey: IdempotencyKey

    public init(dealID: DealID, userID: UserID, quantity: Int, idempotencyKey: IdempotencyKey) {
        self.dealID = dealID
        self.userID = userID
        self.quantity = quantity
        self.idempotencyKey = idempotencyKey
    }
}

public enum PlaceOrderOutcome: Hashable, Sendable {
    /// The order holds its units (a retried key returns the first order).
    case placed(Order)
    /// Fewer than the requested units are left; `available` is what is.
    case soldOut(available: Int)
    case limitExceeded(limit: Int, remaining: Int)
    /// The buyer cancelled a reservation of this deal moments ago: they may reserve again after
    /// `retryAfter` (``DealTerms/cancelCoolDown``).
    case coolingDown(retryAfter: Duration)
    /// The buyer has opened the deal's cap of reservations that did not end paid
    /// (``DealTerms/reservationCap``).
    case reservationCapReached(cap: Int)
    case dealNotActive(DealStatus)
    case dealNotFound(DealID)
    case invalidInput(ValidationError)
}

extension Shop {
    /// Places an order: the deal is live, the quantity is 1...limit, the user is not cooling down
    /// after a cancellation, is under the reservation cap, stays within the per-user limit over
    /// their open and paid orders, and the whole quantity is reserved or none.
    public func placeOrder(_ command: PlaceOrderCommand) async throws -> PlaceOrderOutcome {
        guard let terms = try await ports.catalog.deal(command.dealID) else { return .dealNotFound(command.dealID) }
        guard terms.admits(quantity: command.quantity) else {
            return .invalidInput(ValidationError(field: "quantity", reason: "must be between 1 and \(terms.perUserLimit)"))
        }
        let now = await ports.clock.now()
        let request = ReserveRequest(
            orderID: await ports.identifiers.makeOrderID(for: command.dealID), userID: command.userID, quantity: command.quantity,
            idempotencyKey: command.idempotencyKey, expiresAt: now + terms.reservationTTL)
        let result = try await ports.ledger.reserve(command.dealID, request, at: now)
        switch result.decision {
        case .reserve(let reserved):
            let placed = OrderPlaced(reserved, terms: terms)
            let order = Order(placed)
            try await ports.orders.save(order, expectedVersion: 0)
            let orderEvent = SequencedEvent(stream: .order(order.id), sequence: 1, event: .order(.placed(placed)))
            try await record(result.events + [orderEvent], at: now)
            return .placed(order)
        case .duplicate(let first):
            if let order = try await ports.orders.order(first.orderID) { return .placed(order) }
            // The first request reserved but has not stored its order yet: answer with the same order.
            let reserved = StockReserved(
                dealID: terms.id, orderID: first.orderID, userID: command.userID, quantity: first.quantity,
                idempotencyKey: command.idempotencyKey, expiresAt: first.expiresAt, at: first.reservedAt)
            return .placed(Order(OrderPlaced(reserved, terms: terms)))
        case .notActive(let status):
            return .dealNotActive(status)
        case .soldOut(let available):
            return .soldOut(available: available)
        case .limitExceeded(let remaining):
            return .limitExceeded(limit: terms.perUserLimit, remaining: remaining)
        case .coolingDown(let until):
            return .coolingDown(retryAfter: until - now)
        case .reservationCapReached(let cap):
            return .reservationCapReached(cap: cap)
        case .invalidQuantity:
            return .invalidInput(ValidationError(field: "quantity", reason: "must be between 1 and \(terms.perUserLimit)"))
        }
    }
}

extension OrderPlaced {
    /// The order a reservation makes: placed when the units were reserved, payable for the
    /// deal's payment window, holding its units until the reservation expires.
    public init(_ reserved: StockReserved, terms: DealTerms) {
        self.init(
            orderID: reserved.orderID, dealID: reserved.dealID, userID: reserved.userID, quantity: reserved.quantity,
            unitPrice: terms.price, idempotencyKey: reserved.idempotencyKey, placedAt: reserved.at,
            expiresAt: reserved.expiresAt, paymentDeadline: min(reserved.at + terms.paymentWindow, reserved.expiresAt))
    }
}
