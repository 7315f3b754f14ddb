/// The result of an admin command on a deal.
public enum DealCommandOutcome: Hashable, Sendable {
    /// Done (or nothing to do); the deal's status and counters now.
    case done(DealStock)
    case dealNotFound(DealID)
    case invalidInput(ValidationError)
}

extension Shop {
    /// Adds a product to the catalogue.
    public func createProduct(_ product: Product) async throws {
        try await ports.catalog.add(product)
        let now = await ports.clock.now()
        try await record([SequencedEvent(stream: .product(product.id), sequence: 1, event: .product(product.created))], at: now)
    }

    /// Schedules a deal for an existing product, with its stock on the shelf.
    public func scheduleDeal(_ terms: DealTerms) async throws -> DealCommandOutcome {
        guard try await ports.catalog.product(terms.productID) != nil else {
            return .invalidInput(ValidationError(field: "productId", reason: "names no product"))
        }
        try await ports.catalog.add(terms)
        let events = try await ports.ledger.create(terms)
        try await record(events, at: await ports.clock.now())
        return try await stockOutcome(terms.id)
    }

    /// Starts a scheduled deal now (live, or sold out when it has no stock).
    public func startDeal(_ id: DealID) async throws -> DealCommandOutcome {
        try await deal(id) { now in try await ports.ledger.start(id, at: now) }
    }

    /// Ends a deal now. Open reservations stay payable until they expire.
    public func endDeal(_ id: DealID) async throws -> DealCommandOutcome {
        try await deal(id) { now in try await ports.ledger.end(id, at: now) }
    }

    /// Adds units to a deal that has not ended; a sold-out deal reopens.
    public func restock(_ id: DealID, quantity: Int) async throws -> DealCommandOutcome {
        do {
            return try await deal(id) { now in try await ports.ledger.restock(id, quantity: quantity, at: now) }
        } catch let error as ValidationError {
            return .invalidInput(error)
        }
    }

    /// Starts every scheduled deal whose start has come and ends every deal whose end has come:
    /// what the deal scheduler runs on each tick. Returns the deals it changed.
    public func runSchedule(pageSize: Int = 100) async throws -> [DealID] {
        var changed: [DealID] = []
        var cursor: DealID?
        let now = await ports.clock.now()
        while true {
            let page = try await ports.catalog.deals(after: cursor, limit: pageSize)
            for terms in page {
                guard let stock = try await ports.ledger.stock(terms.id) else { continue }
                var events: [SequencedEvent] = []
                if stock.status == .scheduled, now >= terms.startsAt, now < terms.endsAt {
                    events = try await ports.ledger.start(terms.id, at: now)
                } else if stock.status != .ended, now >= terms.endsAt {
                    events = try await ports.ledger.end(terms.id, at: now)
                }
                if !events.isEmpty {
                    try await record(events, at: now)
                    changed.append(terms.id)
                }
            }
            guard page.count == pageSize, let last = page.last else { return changed }
            cursor = last.id
        }
    }

    /// Expires every reservation due now, at most `limit`: what the expiry sweeper runs on each
    /// tick. An order already paid, cancelled or expired is left alone. Returns the orders expired.
    public func expireReservations(limit: Int = 500) async throws -> [OrderID] {
        let now = await ports.clock.now()
        var expired: [OrderID] = []
        for due in try await ports.ledger.dueReservations(at: now, limit: limit) {
            let order = try await expire(due.dealID, due.orderID, at: now)
            if order.status == .expired { expired.append(order.id) }
        }
        return expired
    }

    /// Expires one order's reservation in the ledger and then the order; returns the order now.
    func expire(_ dealID: DealID, _ orderID: OrderID, at now: Instant) async throws -> Order {
        let events = try await ports.ledger.expire(dealID, orderID, at: now)
        guard !events.isEmpty else {
            guard let order = try await ports.orders.order(orderID) else { throw UnknownOrderError(orderID: orderID) }
            return order
        }
        let (order, event) = try await transition(orderID, .expire, at: now)
        try await record(events + [event].compactMap { $0 }, at: now)
        return order
    }

    private func deal(
        _ id: DealID, _ change: (Instant) async throws -> [SequencedEvent]
    ) async throws -> DealCommandOutcome {
        guard try await ports.ledger.stock(id) != nil else { return .dealNotFound(id) }
        let now = await ports.clock.now()
        try await record(try await change(now), at: now)
        return try await stockOutcome(id)
    }

    private func stockOutcome(_ id: DealID) async throws -> DealCommandOutcome {
        guard let stock = try await ports.ledger.stock(id) else { return .dealNotFound(id) }
        return .done(stock)
    }
}
