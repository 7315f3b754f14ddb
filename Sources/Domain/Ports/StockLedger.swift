/// The atomic stock gate: one ``StockGate`` per deal, each operation applied atomically.
///
/// Adapters: `InMemoryStockLedger` (an actor) and the Redis ledger (one Lua script per
/// operation). Every method returns the events it recorded, with their stream sequence numbers,
/// so the caller can append them to the event store and publish them.
public protocol StockLedger: Sendable {
    /// Puts a newly scheduled deal's gate in place. Creating an existing deal changes nothing.
    func create(_ terms: DealTerms) async throws -> [SequencedEvent]
    func reserve(_ dealID: DealID, _ request: ReserveRequest, at: Instant) async throws -> LedgerResult<ReserveDecision>
    func confirm(_ dealID: DealID, _ orderID: OrderID, at: Instant) async throws -> LedgerResult<ConfirmDecision>
    func release(_ dealID: DealID, _ orderID: OrderID, at: Instant) async throws -> [SequencedEvent]
    func expire(_ dealID: DealID, _ orderID: OrderID, at: Instant) async throws -> [SequencedEvent]
    func returnSold(_ dealID: DealID, _ orderID: OrderID, at: Instant) async throws -> [SequencedEvent]
    func restock(_ dealID: DealID, quantity: Int, at: Instant) async throws -> [SequencedEvent]
    func start(_ dealID: DealID, at: Instant) async throws -> [SequencedEvent]
    func end(_ dealID: DealID, at: Instant) async throws -> [SequencedEvent]
    /// The deal's status and counters, or `nil` for an unknown deal.
    func stock(_ dealID: DealID) async throws -> DealStock?
    /// Several deals' status and counters (unknown deals are left out). Adapters may read them in
    /// one round trip.
    func stocks(_ dealIDs: [DealID]) async throws -> [DealID: DealStock]
    /// Reservations due at `instant` across all deals, at most `limit`, oldest first.
    func dueReservations(at instant: Instant, limit: Int) async throws -> [DueReservation]
}

/// A decision and the events it recorded.
public struct LedgerResult<Decision: Sendable & Hashable>: Sendable, Hashable {
    public var decision: Decision
    public var events: [SequencedEvent]

    public init(decision: Decision, events: [SequencedEvent]) {
        self.decision = decision
        self.events = events
    }
}

public struct DueReservation: Hashable, Sendable {
    public var dealID: DealID
    public var orderID: OrderID
    public init(dealID: DealID, orderID: OrderID) {
        self.dealID = dealID
        self.orderID = orderID
    }
}

/// An operation named a deal the ledger does not hold.
public struct UnknownDealError: Error, Hashable, Sendable {
    public var dealID: DealID
    public init(dealID: DealID) { self.dealID = dealID }
}

extension StockLedger {
    public func stocks(_ dealIDs: [DealID]) async throws -> [DealID: DealStock] {
        var result: [DealID: DealStock] = [:]
        for id in dealIDs { result[id] = try await stock(id) }
        return result
    }
}
