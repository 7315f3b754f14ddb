/// The payment provider. Adapters: a simulated provider with configurable latency and decline
/// rate (in-memory and in the server), a real provider later.
public protocol PaymentGateway: Sendable {
    /// Charges `amount` once per payment id: a repeated call returns the first answer.
    func charge(_ payment: PaymentID, amount: Money, idempotencyKey: IdempotencyKey) async throws -> ChargeResult
    /// Refunds a completed charge once per payment id.
    func refund(_ payment: PaymentID, amount: Money) async throws
}

public enum ChargeResult: Hashable, Sendable {
    case approved
    case declined(reason: String)
}
