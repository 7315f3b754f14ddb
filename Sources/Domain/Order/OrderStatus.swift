/// Where an order is in its lifecycle.
public enum OrderStatus: String, Hashable, Sendable, Codable, CaseIterable {
    /// Stock is held for the buyer until the reservation expires.
    case reserved
    case paid
    /// Cancelled before payment; the stock went back.
    case cancelled
    /// Not paid in time; the stock went back.
    case expired
    /// Cancelled after payment; the stock went back and the money was refunded.
    case refunded

    public enum Trigger: String, Hashable, Sendable, CaseIterable {
        case pay
        case cancel
        case expire
        case refund
    }

    /// The status after `trigger`, or `nil` when the transition is forbidden.
    public func next(on trigger: Trigger) -> OrderStatus? {
        switch (self, trigger) {
        case (.reserved, .pay): .paid
        case (.reserved, .cancel): .cancelled
        case (.reserved, .expire): .expired
        case (.paid, .refund): .refunded
        default: nil
        }
    }

    /// Whether the order still counts against the buyer's per-user limit.
    public var holdsStock: Bool { self == .reserved || self == .paid }
}
