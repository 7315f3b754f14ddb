extension Inventory {
    /// Applies one of this inventory's events with its per-aggregate sequence number: the only
    /// way an inventory changes.
    public mutating func apply(_ event: InventoryEvent, sequence: Int) {
        switch event {
        case .created:
            break
        case .reserved(let e):
            reservations[e.orderID] = Reservation(userID: e.userID, quantity: e.quantity, expiresAt: e.expiresAt)
            orderForKey[IdempotencyScope(userID: e.userID, key: e.idempotencyKey)] = KeyRecord(
                orderID: e.orderID, quantity: e.quantity, reservedAt: e.at, expiresAt: e.expiresAt)
            holdings[e.userID, default: 0] += e.quantity
            available -= e.quantity
            reserved += e.quantity
        case .confirmed(let e):
            guard let reservation = reservations.removeValue(forKey: e.orderID) else {
                preconditionFailure("confirm of \(e.orderID), which holds no reservation")
            }
            soldOrders[e.orderID] = Holding(userID: reservation.userID, quantity: reservation.quantity)
            reserved -= reservation.quantity
            sold += reservation.quantity
        case .released(let e):
            returnReservation(e.orderID)
        case .expired(let e):
            returnReservation(e.orderID)
        case .returned(let e):
            guard let holding = soldOrders.removeValue(forKey: e.orderID) else {
                preconditionFailure("return of \(e.orderID), which holds no sold units")
            }
            sold -= holding.quantity
            available += holding.quantity
            drop(holding.quantity, from: holding.userID)
        case .restocked(let e):
            total += e.quantity
            available += e.quantity
        }
        version = sequence
    }

    private mutating func returnReservation(_ orderID: OrderID) {
        guard let reservation = reservations.removeValue(forKey: orderID) else {
            preconditionFailure("release of \(orderID), which holds no reservation")
        }
        reserved -= reservation.quantity
        available += reservation.quantity
        drop(reservation.quantity, from: reservation.userID)
    }

    private mutating func drop(_ quantity: Int, from user: UserID) {
        let left = holdings[user, default: 0] - quantity
        holdings[user] = left == 0 ? nil : left
    }

    /// Rebuilds an inventory from its events in sequence order.
    public init(replaying events: [(sequence: Int, event: InventoryEvent)]) throws(ReplayError) {
        guard case .created(let created)? = events.first?.event else {
            throw ReplayError.missingCreation("inventory")
        }
        self.init(created)
        for (sequence, event) in events { apply(event, sequence: sequence) }
    }
}
