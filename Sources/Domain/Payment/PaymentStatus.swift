/// Where a payment is in its lifecycle.
public enum PaymentStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case requested
    case completed
    case failed
    case refunded

    public enum Trigger: String, Hashable, Sendable, CaseIterable {
        case complete
        case fail
        case refund
    }

    /// The status after `trigger`, or `nil` when the transition is forbidden.
    public func next(on trigger: Trigger) -> PaymentStatus? {
        switch (self, trigger) {
        case (.requested, .complete): .completed
        case (.requested, .fail): .failed
        case (.completed, .refund): .refunded
        default: nil
        }
    }
}
