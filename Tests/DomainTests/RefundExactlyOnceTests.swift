import Domain
import DomainMemory
import Testing

/// Cancelling a paid order is exactly once: a refund cut short at any point (as a crash would) is
/// finished by the reconciler or by the buyer's retry with one refund at the provider, the units
/// returned once, the order and its payment refunded once and every event recorded once; between
/// the points nothing is ever stored half done (no units back on the shelf for an order still
/// paid). Concurrent cancellations refund once.
@Suite struct RefundExactlyOnceTests {
    typealias Resume = PaymentExactlyOnceTests.Resume

    @Test(arguments: PaymentStep.refund.flatMap { step in Resume.allCases.map { (step, $0) } })
    func aRefundCutShortIsFinishedOnce(_ step: PaymentStep, _ resume: Resume) async throws {
        let (sale, faults) = try await PaymentExactlyOnceTests.sale()
        let order = try await Self.paid(sale)
        faults.arm(step)
        await #expect(throws: Crash.self) { _ = try await sale.shop.cancelOrder(Self.cancel(order)) }
        // Cut short: still paid, its units still sold; the provider refunded or not, nothing else.
        #expect(try await sale.memory.orders.order(order.id)?.status == .paid)
        #expect(try await sale.stock("d-1").inventory.sold == order.quantity)

        await sale.memory.clock.advance(by: .seconds(31))
        switch resume {
        case .reconciler:
            let finished = try await sale.shop.reconcileRefunds(olderThan: .seconds(30))
            guard case .refunded(let refunded)? = finished[order.id] else { Issue.record("\(step): reconciler gave \(finished)"); return }
            #expect(refunded.status == .refunded)
        case .retry:
            guard case .refunded = try await sale.shop.cancelOrder(Self.cancel(order)) else { Issue.record("\(step): retry did not refund"); return }
        }
        try await Self.expectRefundedOnce(sale, order)
        // Nothing left for the reconciler; cancelling again changes nothing.
        #expect(try await sale.shop.reconcileRefunds(olderThan: .zero).isEmpty)
        guard case .notCancellable = try await sale.shop.cancelOrder(Self.cancel(order)) else { Issue.record("second cancel"); return }
        try await Self.expectRefundedOnce(sale, order)
    }

    @Test func concurrentCancellationsRefundOnce() async throws {
        let (sale, _) = try await PaymentExactlyOnceTests.sale()
        let order = try await Self.paid(sale)
        let outcomes = try await withThrowingTaskGroup(of: CancelOrderOutcome.self) { group in
            for _ in 0..<10 { group.addTask { try await sale.shop.cancelOrder(Self.cancel(order)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count { if case .refunded = $0 { true } else { false } } >= 1, "\(outcomes)")
        #expect(outcomes.allSatisfy { if case .orderNotFound = $0 { false } else { true } })
        try await Self.expectRefundedOnce(sale, order)
    }

    // MARK: - Support

    static func paid(_ sale: SaleFixture) async throws -> Order {
        let placed = try #require(try await sale.place("d-1", "u-1", 2, key: "k").order)
        guard case .paid(let paid) = try await sale.pay(placed) else { throw Crash() }
        return paid
    }

    static func cancel(_ order: Order) -> CancelOrderCommand { CancelOrderCommand(orderID: order.id, userID: order.userID) }

    /// One charge and one refund of it, the units back on the shelf once, the order and payment
    /// refunded, no claim pending, and every event once, replaying to the same state.
    static func expectRefundedOnce(_ sale: SaleFixture, _ order: Order, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let charges = await sale.memory.gateway.charges, refunds = await sale.memory.gateway.refunds
        #expect(charges.count == 1 && refunds.count == 1 && refunds.keys.first == charges.first, "charged \(charges), refunded \(refunds)", sourceLocation: sourceLocation)
        let stored = try #require(try await sale.memory.orders.order(order.id), sourceLocation: sourceLocation)
        #expect(stored.status == .refunded, sourceLocation: sourceLocation)
        let payment = try #require(charges.first, sourceLocation: sourceLocation)
        #expect(try await sale.memory.payments.payment(payment)?.status == .refunded, sourceLocation: sourceLocation)
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.sold == 0 && stock.inventory.reserved == 0 && stock.inventory.available == 10, "\(stock.inventory)", sourceLocation: sourceLocation)
        #expect(try await sale.memory.idempotency.pendingClaims(before: await sale.memory.clock.now() + .seconds(3600), limit: 10).isEmpty, sourceLocation: sourceLocation)
        let log = await sale.memory.events.readAll(from: 0, limit: 10_000).map(\.envelope)
        #expect(log.filter { $0.aggregateID == .order(order.id) }.map(\.type) == ["OrderPlaced", "OrderPaid", "OrderRefunded"], sourceLocation: sourceLocation)
        #expect(log.filter { $0.aggregateID == .payment(payment) }.map(\.type) == ["PaymentRequested", "PaymentCompleted", "PaymentRefunded"], sourceLocation: sourceLocation)
        #expect(log.filter { $0.type == "StockReturned" }.count == 1, sourceLocation: sourceLocation)
        let projection = try Projection(replaying: log)
        #expect(projection.orders[order.id] == stored, sourceLocation: sourceLocation)
        #expect(projection.gate("d-1")?.snapshot.inventory == stock.inventory, sourceLocation: sourceLocation)
    }
}
