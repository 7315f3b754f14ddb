/// Events of the ``FlashDeal`` aggregate (stream `deal/<id>`).
public enum DealEvent: Hashable, Sendable {
    case scheduled(DealScheduled)
    case started(DealStarted)
    case soldOut(DealSoldOut)
    case reopened(DealReopened)
    case ended(DealEnded)
}

/// A deal was scheduled on these terms.
public struct DealScheduled: Hashable, Sendable, Codable {
    public var terms: DealTerms
    public init(terms: DealTerms) { self.terms = terms }
}

/// The deal went live.
public struct DealStarted: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var at: Instant
    public init(dealID: DealID, at: Instant) {
        self.dealID = dealID
        self.at = at
    }
}

/// The last available unit was reserved.
public struct DealSoldOut: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var at: Instant
    public init(dealID: DealID, at: Instant) {
        self.dealID = dealID
        self.at = at
    }
}

/// A release, expiry, refund or restock brought units back to a sold-out deal.
public struct DealReopened: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var at: Instant
    public init(dealID: DealID, at: Instant) {
        self.dealID = dealID
        self.at = at
    }
}

/// The deal closed; no more orders.
public struct DealEnded: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var at: Instant
    public init(dealID: DealID, at: Instant) {
        self.dealID = dealID
        self.at = at
    }
}
