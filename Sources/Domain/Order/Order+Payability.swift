/// Whether an order may be paid at an instant.
public enum Payability: Hashable, Sendable {
    case payable
    case alreadyPaid
    /// Cancelled or refunded.
    case notPayable(OrderStatus)
    /// Past its payment deadline, its reservation not yet lapsed.
    case windowClosed
    /// Its reservation lapsed (or the sweeper already expired it).
    case expired
}

extension Order {
    /// The payment rule: only a reserved order, before its payment deadline and its expiry.
    public func payability(at instant: Instant) -> Payability {
        switch status {
        case .paid: return .alreadyPaid
        case .expired: return .expired
        case .cancelled, .refunded: return .notPayable(status)
        case .reserved:
            if instant >= expiresAt { return .expired }
            if instant > paymentDeadline { return .windowClosed }
            return .payable
        }
    }
}
