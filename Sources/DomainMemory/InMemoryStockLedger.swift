public import Domain

/// The stock ledger in one actor: a ``StockGate`` per deal, each operation atomic because the
/// actor runs one at a time. The embedded server, unit tests and contract tests use it.
public actor InMemoryStockLedger: StockLedger {
    private var gates: [DealID: StockGate] = [:]

    public init() {}

    public func create(_ terms: DealTerms) -> [SequencedEvent] {
        guard gates[terms.id] == nil else { return [] }
        let (gate, events) = StockGate.create(terms)
        gates[terms.id] = gate
        return events
    }

    public func reserve(_ dealID: DealID, _ request: ReserveRequest, at instant: Instant) throws -> LedgerResult<ReserveDecision> {
        try change(dealID) { $0.decideReserve(request, at: instant) }
    }

    public func confirm(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) throws -> LedgerResult<ConfirmDecision> {
        try change(dealID) { $0.decideConfirm(orderID, at: instant) }
    }

    public func release(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) throws -> [SequencedEvent] {
        try events(dealID) { ($0.decideRelease(orderID, at: instant)) }
    }

    public func expire(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) throws -> [SequencedEvent] {
        try events(dealID) { ($0.decideExpire(orderID, at: instant)) }
    }

    public func returnSold(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) throws -> [SequencedEvent] {
        try events(dealID) { ($0.decideReturn(orderID, at: instant)) }
    }

    public func restock(_ dealID: DealID, quantity: Int, at instant: Instant) throws -> [SequencedEvent] {
        try events(dealID) { (try $0.decideRestock(quantity, at: instant)) }
    }

    public func start(_ dealID: DealID, at instant: Instant) throws -> [SequencedEvent] {
        try events(dealID) { ($0.decideStart(at: instant)) }
    }

    public func end(_ dealID: DealID, at instant: Instant) throws -> [SequencedEvent] {
        try events(dealID) { ($0.decideEnd(at: instant)) }
    }

    public func stock(_ dealID: DealID) -> DealStock? { gates[dealID]?.snapshot }

    public func dueReservations(at instant: Instant, limit: Int) -> [DueReservation] {
        gates.keys.sorted().lazy.flatMap { dealID in
            self.gates[dealID]!.inventory.dueReservations(at: instant).map { DueReservation(dealID: dealID, orderID: $0) }
        }.prefix(limit).map { $0 }
    }

    /// The whole gate, for tests that check invariants.
    public func gate(_ dealID: DealID) -> StockGate? { gates[dealID] }

    /// Drops every gate (what `replay` rebuilds).
    public func removeAll() { gates.removeAll() }

    /// Puts a rebuilt gate in place.
    public func restore(_ gate: StockGate) { gates[gate.deal.id] = gate }

    private func events(_ dealID: DealID, _ decide: (StockGate) throws -> GateChange) throws -> [SequencedEvent] {
        guard var gate = gates[dealID] else { throw UnknownDealError(dealID: dealID) }
        let events = gate.apply(try decide(gate))
        gates[dealID] = gate
        return events
    }

    private func change<D: Sendable & Hashable>(
        _ dealID: DealID, _ decide: (StockGate) throws -> (D, GateChange)
    ) throws -> LedgerResult<D> {
        var decision: D?
        let events = try events(dealID) { gate in
            let (d, change) = try decide(gate)
            decision = d
            return change
        }
        return LedgerResult(decision: decision!, events: events)
    }
}
