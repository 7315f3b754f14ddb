/// Where a flash deal is in its lifecycle.
public enum DealStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case scheduled
    case live
    case soldOut
    case ended

    /// What can move a deal from one status to another.
    public enum Trigger: String, Hashable, Sendable, CaseIterable {
        /// The start instant came (or an admin started it).
        case start
        /// A reservation took the last available unit.
        case depleted
        /// A release, expiry, refund or restock brought stock back.
        case replenished
        /// The end instant came (or an admin ended it).
        case end
    }

    /// The status after `trigger`, or `nil` when the transition is forbidden.
    public func next(on trigger: Trigger) -> DealStatus? {
        switch (self, trigger) {
        case (.scheduled, .start): .live
        case (.live, .depleted): .soldOut
        case (.soldOut, .replenished): .live
        case (.scheduled, .end), (.live, .end), (.soldOut, .end): .ended
        default: nil
        }
    }

    /// Whether orders can be placed in this status.
    public var acceptsOrders: Bool { self == .live }
}
