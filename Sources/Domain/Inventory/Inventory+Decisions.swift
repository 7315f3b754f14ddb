/// A request to take units for a new order.
public struct ReserveRequest: Hashable, Sendable, Codable {
    public var orderID: OrderID
    public var userID: UserID
    public var quantity: Int
    public var idempotencyKey: IdempotencyKey
    public var expiresAt: Instant

    public init(orderID: OrderID, userID: UserID, quantity: Int, idempotencyKey: IdempotencyKey, expiresAt: Instant) {
        self.orderID = orderID
        self.userID = userID
        self.quantity = quantity
        self.idempotencyKey = idempotencyKey
        self.expiresAt = expiresAt
    }
}

/// What the stock gate decided about a reservation.
public enum ReserveDecision: Hashable, Sendable {
    /// Take the units: apply this event.
    case reserve(StockReserved)
    /// The idempotency key was used before: the first order stands and nothing changes.
    case duplicate(Inventory.KeyRecord)
    /// The deal is not live (`status`), or the instant is outside its window.
    case notActive(DealStatus)
    /// Fewer than the requested units are available; nothing is taken.
    case soldOut(available: Int)
    /// The user would exceed the per-user limit; `remaining` units are still allowed.
    case limitExceeded(remaining: Int)
    /// The user cancelled a reservation of this deal and may not reserve again before `until`.
    case coolingDown(until: Instant)
    /// The user has opened the deal's cap of reservations that did not end paid.
    case reservationCapReached(cap: Int)
    case invalidQuantity
}

/// What the stock gate decided about confirming a paid reservation.
public enum ConfirmDecision: Hashable, Sendable {
    case confirm(StockConfirmed)
    /// The reservation was due: it expires instead and its units return to the shelf.
    case expire(StockExpired)
    /// The order holds no reservation (already sold, released or expired).
    case notReserved
    /// The order's units are already sold: confirming again changes nothing.
    case alreadyConfirmed
}

extension Inventory {
    /// Decides a reservation: the gate is open, the quantity is within the limit, the user is not
    /// cooling down after a cancellation and has opened fewer unpaid reservations than the cap,
    /// stays within the limit over all their open and paid orders, and the whole quantity is
    /// available. A repeated idempotency key returns the first order.
    public func decideReserve(_ request: ReserveRequest, at instant: Instant) -> ReserveDecision {
        let scope = IdempotencyScope(userID: request.userID, key: request.idempotencyKey)
        if let first = orderForKey[scope] { return .duplicate(first) }
        guard request.quantity >= 1, request.quantity <= perUserLimit else { return .invalidQuantity }
        if let until = coolingUntil[request.userID], instant < until { return .coolingDown(until: until) }
        if reservationCap > 0, unpaidReservations[request.userID, default: 0] >= reservationCap { return .reservationCapReached(cap: reservationCap) }
        let remaining = perUserLimit - holding(of: request.userID)
        guard request.quantity <= remaining else { return .limitExceeded(remaining: max(0, remaining)) }
        guard request.quantity <= available else { return .soldOut(available: available) }
        guard reservations[request.orderID] == nil, soldOrders[request.orderID] == nil else {
            preconditionFailure("order \(request.orderID) already holds stock")
        }
        return .reserve(
            StockReserved(
                dealID: dealID, orderID: request.orderID, userID: request.userID, quantity: request.quantity,
                idempotencyKey: request.idempotencyKey, expiresAt: request.expiresAt, at: instant))
    }

    /// Decides confirming a paid order's reservation. A reservation past its expiry can never be
    /// confirmed: it expires instead, so a late payment cannot sell units already returned.
    public func decideConfirm(_ orderID: OrderID, at instant: Instant) -> ConfirmDecision {
        guard let reservation = reservations[orderID] else {
            return soldOrders[orderID] == nil ? .notReserved : .alreadyConfirmed
        }
        guard instant < reservation.expiresAt else {
            return .expire(StockExpired(dealID: dealID, orderID: orderID, quantity: reservation.quantity, at: instant))
        }
        return .confirm(StockConfirmed(dealID: dealID, orderID: orderID, quantity: reservation.quantity, at: instant))
    }

    /// Decides releasing an unpaid order's reservation; `nil` when it holds none (released twice
    /// releases once).
    public func decideRelease(_ orderID: OrderID, at instant: Instant) -> StockReleased? {
        guard let reservation = reservations[orderID] else { return nil }
        return StockReleased(dealID: dealID, orderID: orderID, quantity: reservation.quantity, at: instant)
    }

    /// Decides expiring a reservation at `instant`; `nil` when it holds none or is not yet due.
    public func decideExpire(_ orderID: OrderID, at instant: Instant) -> StockExpired? {
        guard let reservation = reservations[orderID], reservation.expiresAt <= instant else { return nil }
        return StockExpired(dealID: dealID, orderID: orderID, quantity: reservation.quantity, at: instant)
    }

    /// Decides returning a refunded order's sold units to the shelf; `nil` when none are sold to it.
    public func decideReturn(_ orderID: OrderID, at instant: Instant) -> StockReturned? {
        guard let holding = soldOrders[orderID] else { return nil }
        return StockReturned(dealID: dealID, orderID: orderID, quantity: holding.quantity, at: instant)
    }

    /// Decides adding `quantity` new units.
    public func decideRestock(_ quantity: Int, at instant: Instant) throws(ValidationError) -> StockRestocked {
        guard quantity >= 1, quantity <= Int(Int32.max) - total else {
            throw ValidationError(field: "quantity", reason: "must be between 1 and \(Int(Int32.max) - total)")
        }
        return StockRestocked(dealID: dealID, quantity: quantity, at: instant)
    }
}
