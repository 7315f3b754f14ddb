public import Domain

/// The stock ledger in one actor: a ``StockGate`` per deal, each operation atomic because the
/// actor runs one at a time. The embedded server, unit tests and contract tests use it.
///
/// With a `journal`, every change's events are appended to it once the change is made, as the
/// Redis gate journals each change in the same step: a flow cut short after a ledger step (the
/// fault-injection tests) loses none of the ledger's events.
public actor InMemoryStockLedger: StockLedger {
    private var gates: [DealID: StockGate] = [:]
    private let journal: (any EventLog)?

    public init(journal: (any EventLog)? = nil) { self.journal = journal }

    public func create(_ terms: DealTerms) async throws -> [SequencedEvent] {
        guard gates[terms.id] == nil else { return [] }
        let (gate, events) = StockGate.create(terms)
        gates[terms.id] = gate
        try await journal?.append(events.map { $0.envelope(at: terms.startsAt) }, expected: .any)
        return events
    }

    public func reserve(_ dealID: DealID, _ request: ReserveRequest, at instant: Instant) async throws -> LedgerResult<ReserveDecision> {
        try await change(dealID, at: instant) { $0.decideReserve(request, at: instant) }
    }

    public func confirm(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> LedgerResult<ConfirmDecision> {
        try await change(dealID, at: instant) { $0.decideConfirm(orderID, at: instant) }
    }

    public func release(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await events(dealID, at: instant) { ($0.decideRelease(orderID, at: instant)) }
    }

    public func expire(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await events(dealID, at: instant) { ($0.decideExpire(orderID, at: instant)) }
    }

    public func returnSold(_ dealID: DealID, _ orderID: OrderID, at instant: Instant) async throws -> [SequencedEvent] {
        try await events(dealID, at: instant) { ($0.decideReturn(orderID, at: instant)) }
    }

    public func restock(_ dealID: DealID, quantity: Int, at instant: Instant) async throws -> [SequencedEvent] {
        try await events(dealID, at: instant) { (try $0.decideRestock(quantity, at: instant)) }
    }

    public func start(_ dealID: DealID, at instant: Instant) async throws -> [SequencedEvent] {
        try await events(dealID, at: instant) { ($0.decideStart(at: instant)) }
    }

    public func end(_ dealID: DealID, at instant: Instant) async throws -> [SequencedEvent] {
        try await events(dealID, at: instant) { ($0.decideEnd(at: instant)) }
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

    private func events(_ dealID: DealID, at instant: Instant, _ decide: (StockGate) throws -> GateChange) async throws -> [SequencedEvent] {
        guard var gate = gates[dealID] else { throw UnknownDealError(dealID: dealID) }
        let events = gate.apply(try decide(gate))
        gates[dealID] = gate
        if let journal, !events.isEmpty { try await journal.append(events.map { $0.envelope(at: instant) }, expected: .any) }
        return events
    }

    private func change<D: Sendable & Hashable>(
        _ dealID: DealID, at instant: Instant, _ decide: (StockGate) throws -> (D, GateChange)
    ) async throws -> LedgerResult<D> {
        var decision: D?
        let events = try await events(dealID, at: instant) { gate in
            let (d, change) = try decide(gate)
            decision = d
            return change
        }
        return LedgerResult(decision: decision!, events: events)
    }
}
