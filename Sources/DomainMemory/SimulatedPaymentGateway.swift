public import Domain

/// A payment provider that declines a seeded fraction of charges and remembers each answer by the
/// caller's idempotency key, as real providers do, so a repeated charge with the key returns the
/// first answer and moves no money. An optional hook runs inside `charge` (tests use it to move
/// the clock past a reservation's expiry while the provider "thinks").
public actor SimulatedPaymentGateway: PaymentGateway {
    private var random: SeededGenerator
    private let declineRate: Double
    private var answers: [IdempotencyKey: ChargeResult] = [:]
    /// Every charge that moved money, in order (a payment charged twice would be here twice).
    public private(set) var charges: [PaymentID] = []
    public private(set) var refunds: [PaymentID: Money] = [:]
    public private(set) var charged: [PaymentID: Money] = [:]
    private var duringCharge: (@Sendable () async -> Void)?

    public init(seed: UInt64 = 1, declineRate: Double = 0) {
        random = SeededGenerator(seed: seed)
        self.declineRate = declineRate
    }

    public func setDuringCharge(_ hook: (@Sendable () async -> Void)?) { duringCharge = hook }

    public func charge(_ payment: PaymentID, amount: Money, idempotencyKey: IdempotencyKey) async -> ChargeResult {
        if let first = answers[idempotencyKey] { return first }
        await duringCharge?()
        if let first = answers[idempotencyKey] { return first }  // a duplicate answered while the hook ran
        let answer: ChargeResult = random.nextUnitInterval() < declineRate ? .declined(reason: "card declined") : .approved
        answers[idempotencyKey] = answer
        if answer == .approved {
            charged[payment] = amount
            charges.append(payment)
        }
        return answer
    }

    public func refund(_ payment: PaymentID, amount: Money) throws {
        guard charged[payment] != nil else { throw RefundWithoutChargeError(paymentID: payment) }
        guard refunds[payment] == nil else { return }
        refunds[payment] = amount
    }
}

public struct RefundWithoutChargeError: Error, Hashable, Sendable {
    public var paymentID: PaymentID
}
