extension Inventory {
    /// Applies one of this inventory's events with its per-aggregate sequence number: the only
    /// way an inventory changes. For events the Domain just decided (one the inventory cannot take
    /// traps); events read from outside go through ``applying(_:sequence:)``.
    public mutating func apply(_ event: InventoryEvent, sequence: Int) {
        do { try applying(event, sequence: sequence) } catch { preconditionFailure("\(error)") }
    }

    /// Applies one of this inventory's events, or throws (changing nothing) when it cannot take it:
    /// units that are not there to reserve, confirm, release or return.
    public mutating func applying(_ event: InventoryEvent, sequence: Int) throws(ReplayError) {
        let deal = dealID
        func illegal(_ reason: String) -> ReplayError { .illegalTransition("inventory \(deal): \(reason)") }
        switch event {
        case .created:
            break
        case .reserved(let e):
            guard reservations[e.orderID] == nil, soldOrders[e.orderID] == nil else { throw illegal("order \(e.orderID) already holds stock") }
            guard e.quantity > 0, e.quantity <= available else { throw illegal("\(e.quantity) reserved of \(available) available") }
            reservations[e.orderID] = Reservation(userID: e.userID, quantity: e.quantity, expiresAt: e.expiresAt)
            orderForKey[IdempotencyScope(userID: e.userID, key: e.idempotencyKey)] = KeyRecord(
                orderID: e.orderID, quantity: e.quantity, reservedAt: e.at, expiresAt: e.expiresAt)
            holdings[e.userID, default: 0] += e.quantity
            unpaidReservations[e.userID, default: 0] += 1
            available -= e.quantity
            reserved += e.quantity
        case .confirmed(let e):
            guard let reservation = reservations.removeValue(forKey: e.orderID) else {
                throw illegal("confirm of \(e.orderID), which holds no reservation")
            }
            soldOrders[e.orderID] = Holding(userID: reservation.userID, quantity: reservation.quantity)
            let unpaid = unpaidReservations[reservation.userID, default: 0] - 1
            unpaidReservations[reservation.userID] = unpaid <= 0 ? nil : unpaid
            reserved -= reservation.quantity
            sold += reservation.quantity
        case .released(let e):
            let user = reservations[e.orderID]?.userID
            try returnReservation(e.orderID, illegal)
            if let user, cancelCoolDown > .zero { coolingUntil[user] = e.at + cancelCoolDown }
        case .expired(let e):
            try returnReservation(e.orderID, illegal)
        case .returned(let e):
            guard let holding = soldOrders.removeValue(forKey: e.orderID) else {
                throw illegal("return of \(e.orderID), which holds no sold units")
            }
            sold -= holding.quantity
            available += holding.quantity
            drop(holding.quantity, from: holding.userID)
        case .restocked(let e):
            guard e.quantity > 0, e.quantity <= Int(Int32.max) - total else { throw illegal("a restock of \(e.quantity)") }
            total += e.quantity
            available += e.quantity
        }
        version = sequence
    }

    private mutating func returnReservation(_ orderID: OrderID, _ illegal: (String) -> ReplayError) throws(ReplayError) {
        guard let reservation = reservations.removeValue(forKey: orderID) else {
            throw illegal("release of \(orderID), which holds no reservation")
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
        for (sequence, event) in events.dropFirst() { try applying(event, sequence: sequence) }
    }
}
