/// A deal's terms and where it is in its lifecycle.
///
/// The lifecycle lives beside the deal's ``Inventory`` in one ``StockGate``: sold out must be
/// decided in the same atomic step as the reservation that empties the shelf, or two racing
/// requests could leave a deal marked sold out with units on the shelf.
public struct FlashDeal: Hashable, Sendable, Codable {
    public let terms: DealTerms
    public private(set) var status: DealStatus
    /// The sequence number of the last event applied to this aggregate.
    public private(set) var version: Int

    public var id: DealID { terms.id }

    /// A newly scheduled deal.
    public init(_ event: DealScheduled) {
        terms = event.terms
        status = .scheduled
        version = 1
    }

    /// The status a buyer sees at `instant`: a deal past its end reads as ended even before the
    /// scheduler has recorded it, and one past its start but not yet started reads as scheduled.
    public func effectiveStatus(at instant: Instant) -> DealStatus {
        if status != .ended, instant >= terms.endsAt { return .ended }
        return status
    }

    /// The event for `trigger`, or `nil` when the transition is forbidden (the command changes nothing).
    public func decide(_ trigger: DealStatus.Trigger, at instant: Instant) -> DealEvent? {
        guard status.next(on: trigger) != nil else { return nil }
        switch trigger {
        case .start: return .started(DealStarted(dealID: id, at: instant))
        case .depleted: return .soldOut(DealSoldOut(dealID: id, at: instant))
        case .replenished: return .reopened(DealReopened(dealID: id, at: instant))
        case .end: return .ended(DealEnded(dealID: id, at: instant))
        }
    }

    /// Applies one of this deal's events; `sequence` is the event's per-aggregate number. For
    /// events the Domain just decided (one the deal cannot take traps); events read from outside go
    /// through ``applying(_:sequence:)``.
    public mutating func apply(_ event: DealEvent, sequence: Int) {
        do { try applying(event, sequence: sequence) } catch { preconditionFailure("\(error)") }
    }

    /// Applies one of this deal's events, or throws (changing nothing) when the deal cannot take
    /// it in its state.
    public mutating func applying(_ event: DealEvent, sequence: Int) throws(ReplayError) {
        let trigger: DealStatus.Trigger
        switch event {
        case .scheduled: version = sequence; return
        case .started: trigger = .start
        case .soldOut: trigger = .depleted
        case .reopened: trigger = .replenished
        case .ended: trigger = .end
        }
        guard let next = status.next(on: trigger) else {
            throw ReplayError.illegalTransition("deal \(id) is \(status) and cannot take \(event)")
        }
        status = next
        version = sequence
    }

    /// Rebuilds a deal from its events in sequence order.
    public init(replaying events: [(sequence: Int, event: DealEvent)]) throws(ReplayError) {
        guard case .scheduled(let first)? = events.first?.event else { throw ReplayError.missingCreation("deal") }
        self.init(first)
        for (sequence, event) in events.dropFirst() { try applying(event, sequence: sequence) }
    }
}

/// Replaying events that cannot make an aggregate.
public enum ReplayError: Error, Hashable, Sendable {
    case missingCreation(String)
    /// An event the aggregate cannot take in the state the earlier events left it in (outside
    /// data out of contract: the caller dead-letters or reports it, never traps).
    case illegalTransition(String)
}
