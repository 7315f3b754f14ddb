/// One deal's consistency boundary: its ``FlashDeal`` lifecycle and its ``Inventory``,
/// changed together in one atomic step.
///
/// Every stock ledger (the in-memory actor, the Redis Lua script, the simulator) holds one gate
/// per deal and runs these decisions; what it must persist is exactly the returned
/// ``GateChange``. Sold out and reopened are decided here, with the reservation, release or
/// restock that changes the shelf, so they can never disagree with the stock.
public struct StockGate: Hashable, Sendable {
    public private(set) var deal: FlashDeal
    public private(set) var inventory: Inventory

    public var terms: DealTerms { deal.terms }

    /// A newly scheduled deal with its full stock on the shelf, and the two creation events.
    public static func create(_ terms: DealTerms) -> (StockGate, [SequencedEvent]) {
        let scheduled = DealScheduled(terms: terms)
        let created = InventoryCreated(
            dealID: terms.id, total: terms.initialStock, perUserLimit: terms.perUserLimit, reservationCap: terms.reservationCap,
            cancelCoolDown: terms.cancelCoolDown)
        let gate = StockGate(deal: FlashDeal(scheduled), inventory: Inventory(created))
        return (gate, [
            SequencedEvent(stream: .deal(terms.id), sequence: 1, event: .deal(.scheduled(scheduled))),
            SequencedEvent(stream: .inventory(terms.id), sequence: 1, event: .inventory(.created(created))),
        ])
    }

    /// Rebuilds a gate from its two event streams.
    public init(deal: FlashDeal, inventory: Inventory) {
        self.deal = deal
        self.inventory = inventory
    }

    /// The gate's counters and status.
    public var snapshot: DealStock {
        DealStock(status: deal.status, inventory: inventory.snapshot, dealVersion: deal.version)
    }

    /// Decides a reservation. A repeated idempotency key returns the first order whatever the
    /// deal's state now; otherwise the deal must be live and `instant` inside its window.
    public func decideReserve(_ request: ReserveRequest, at instant: Instant) -> (ReserveDecision, GateChange) {
        let scope = Inventory.IdempotencyScope(userID: request.userID, key: request.idempotencyKey)
        if let first = inventory.orderForKey[scope] { return (.duplicate(first), GateChange()) }
        guard deal.status.acceptsOrders, terms.isWithinWindow(instant) else {
            return (.notActive(deal.effectiveStatus(at: instant)), GateChange())
        }
        let decision = inventory.decideReserve(request, at: instant)
        guard case .reserve(let event) = decision else { return (decision, GateChange()) }
        let depleted = inventory.available == event.quantity
        return (decision, GateChange(inventory: [.reserved(event)], deal: depleted ? deal.decide(.depleted, at: instant) : nil))
    }

    /// Decides confirming a paid order's reservation (or expiring it, when it is due).
    public func decideConfirm(_ orderID: OrderID, at instant: Instant) -> (ConfirmDecision, GateChange) {
        let decision = inventory.decideConfirm(orderID, at: instant)
        switch decision {
        case .confirm(let event): return (decision, GateChange(inventory: [.confirmed(event)]))
        case .expire(let event): return (decision, replenishing(.expired(event), at: instant))
        case .notReserved, .alreadyConfirmed: return (decision, GateChange())
        }
    }

    /// Decides releasing an unpaid order's units; empty when it holds none.
    public func decideRelease(_ orderID: OrderID, at instant: Instant) -> GateChange {
        guard let event = inventory.decideRelease(orderID, at: instant) else { return GateChange() }
        return replenishing(.released(event), at: instant)
    }

    /// Decides expiring a due reservation; empty when it holds none or is not due.
    public func decideExpire(_ orderID: OrderID, at instant: Instant) -> GateChange {
        guard let event = inventory.decideExpire(orderID, at: instant) else { return GateChange() }
        return replenishing(.expired(event), at: instant)
    }

    /// Decides returning a refunded order's sold units; empty when none are sold to it.
    public func decideReturn(_ orderID: OrderID, at instant: Instant) -> GateChange {
        guard let event = inventory.decideReturn(orderID, at: instant) else { return GateChange() }
        return replenishing(.returned(event), at: instant)
    }

    /// Decides a restock; refused once the deal has ended.
    public func decideRestock(_ quantity: Int, at instant: Instant) throws(ValidationError) -> GateChange {
        guard deal.status != .ended else { throw ValidationError(field: "dealId", reason: "names a deal that has ended") }
        return replenishing(.restocked(try inventory.decideRestock(quantity, at: instant)), at: instant)
    }

    /// Decides starting the deal: live, or straight to sold out when there is no stock.
    public func decideStart(at instant: Instant) -> GateChange {
        guard let started = deal.decide(.start, at: instant) else { return GateChange() }
        return GateChange(deal: started, followUp: inventory.available == 0 ? .soldOut(DealSoldOut(dealID: deal.id, at: instant)) : nil)
    }

    /// Decides ending the deal. Open reservations stay payable until they expire.
    public func decideEnd(at instant: Instant) -> GateChange {
        GateChange(deal: deal.decide(.end, at: instant))
    }

    private func replenishing(_ event: InventoryEvent, at instant: Instant) -> GateChange {
        let reopens = deal.status == .soldOut && inventory.available == 0
        return GateChange(inventory: [event], deal: reopens ? deal.decide(.replenished, at: instant) : nil)
    }

    /// Applies a change decided by this gate; returns the events with their sequence numbers.
    @discardableResult
    public mutating func apply(_ change: GateChange) -> [SequencedEvent] {
        var applied: [SequencedEvent] = []
        for event in change.inventory {
            let sequence = inventory.version + 1
            inventory.apply(event, sequence: sequence)
            applied.append(SequencedEvent(stream: .inventory(deal.id), sequence: sequence, event: .inventory(event)))
        }
        for event in [change.deal, change.followUp].compactMap({ $0 }) {
            let sequence = deal.version + 1
            deal.apply(event, sequence: sequence)
            applied.append(SequencedEvent(stream: .deal(deal.id), sequence: sequence, event: .deal(event)))
        }
        return applied
    }
}

/// What one gate decision changes: inventory events, then at most two deal events.
public struct GateChange: Hashable, Sendable {
    public var inventory: [InventoryEvent]
    public var deal: DealEvent?
    public var followUp: DealEvent?

    public init(inventory: [InventoryEvent] = [], deal: DealEvent? = nil, followUp: DealEvent? = nil) {
        self.inventory = inventory
        self.deal = deal
        self.followUp = followUp
    }

    public var isEmpty: Bool { inventory.isEmpty && deal == nil && followUp == nil }
}

/// A deal's status and stock counters, as a buyer or planner sees them.
public struct DealStock: Hashable, Sendable, Codable {
    public var status: DealStatus
    public var inventory: InventorySnapshot
    public var dealVersion: Int

    public init(status: DealStatus, inventory: InventorySnapshot, dealVersion: Int) {
        self.status = status
        self.inventory = inventory
        self.dealVersion = dealVersion
    }
}
