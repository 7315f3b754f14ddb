import Domain
import Testing

/// Every (status, trigger) pair of every state machine: allowed ones lead where the table says,
/// all others are refused.
@Suite struct TransitionTableTests {
    static let dealTable: [DealStatus: [DealStatus.Trigger: DealStatus]] = [
        .scheduled: [.start: .live, .end: .ended],
        .live: [.depleted: .soldOut, .end: .ended],
        .soldOut: [.replenished: .live, .end: .ended],
        .ended: [:],
    ]
    static let orderTable: [OrderStatus: [OrderStatus.Trigger: OrderStatus]] = [
        .reserved: [.pay: .paid, .cancel: .cancelled, .expire: .expired],
        .paid: [.refund: .refunded],
        .cancelled: [:], .expired: [:], .refunded: [:],
    ]
    static let paymentTable: [PaymentStatus: [PaymentStatus.Trigger: PaymentStatus]] = [
        .requested: [.complete: .completed, .fail: .failed],
        .completed: [.refund: .refunded],
        .failed: [:], .refunded: [:],
    ]

    @Test(arguments: DealStatus.allCases, DealStatus.Trigger.allCases)
    func deal(_ status: DealStatus, _ trigger: DealStatus.Trigger) {
        #expect(status.next(on: trigger) == Self.dealTable[status]?[trigger])
    }

    @Test(arguments: OrderStatus.allCases, OrderStatus.Trigger.allCases)
    func order(_ status: OrderStatus, _ trigger: OrderStatus.Trigger) {
        #expect(status.next(on: trigger) == Self.orderTable[status]?[trigger])
    }

    @Test(arguments: PaymentStatus.allCases, PaymentStatus.Trigger.allCases)
    func payment(_ status: PaymentStatus, _ trigger: PaymentStatus.Trigger) {
        #expect(status.next(on: trigger) == Self.paymentTable[status]?[trigger])
    }

    @Test func forbiddenOrderTransitionDecidesNothing() {
        let placed = OrderPlaced(
            orderID: "o-1", dealID: "d-1", userID: "u-1", quantity: 1, unitPrice: Money(minorUnits: 100),
            idempotencyKey: "k", placedAt: .seconds(1), expiresAt: .seconds(100), paymentDeadline: .seconds(50))
        var order = Order(placed)
        let cancelled = order.decide(.cancel, at: .seconds(2))!
        order.apply(cancelled, sequence: 2)
        #expect(order.decide(.pay, at: .seconds(3), paymentID: "p-1") == nil)
        #expect(order.decide(.expire, at: .seconds(3)) == nil)
        #expect(order.decide(.refund, at: .seconds(3)) == nil)
        #expect(order.status == .cancelled)
    }
}
