import Domain
import DomainMemory
import Synchronization
import Testing

/// The money path is exactly once: a payment cut short at any step (as a crash would) is finished
/// by the reconciler or by the buyer's retry with one charge, one confirmation, the order paid
/// once and every event recorded once; concurrent duplicates, with one key or several, charge
/// once; a key is bound to the order it was first used for.
@Suite struct PaymentExactlyOnceTests {
    enum Resume: String, CaseIterable, Sendable { case reconciler, retry }

    static let cases = PaymentStep.payment.flatMap { step in Resume.allCases.map { (step, $0) } }

    @Test(arguments: cases)
    func aPaymentCutShortIsFinishedOnce(_ step: PaymentStep, _ resume: Resume) async throws {
        let (sale, faults) = try await Self.sale()
        let order = try #require(try await sale.place("d-1", "u-1", 2, key: "k").order)
        faults.arm(step)
        await #expect(throws: Crash.self) { _ = try await sale.shop.payOrder(Self.pay(order)) }

        await sale.memory.clock.advance(by: .seconds(31))
        switch resume {
        case .reconciler:
            let finished = try await sale.shop.reconcilePayments(olderThan: .seconds(30))
            if step == .completed {
                #expect(finished.isEmpty, "the completion is one step: nothing is left once it is made")
                break
            }
            guard case .paid(let paid)? = finished[order.id] else { Issue.record("\(step): reconciler gave \(finished)"); return }
            #expect(paid.status == .paid)
        case .retry:
            guard case .paid = try await sale.shop.payOrder(Self.pay(order)) else { Issue.record("\(step): retry did not pay"); return }
        }
        try await Self.expectPaidOnce(sale, order)
        // Nothing left for the reconciler, and a later retry answers from the record, charging nothing.
        #expect(try await sale.memory.idempotency.pendingClaims(before: await sale.memory.clock.now() + .seconds(3600), limit: 10).isEmpty)
        guard case .paid = try await sale.shop.payOrder(Self.pay(order)) else { Issue.record("replay"); return }
        #expect(try await sale.shop.reconcilePayments(olderThan: .zero).isEmpty)
        try await Self.expectPaidOnce(sale, order)
    }

    /// Cut short after the charge, then the reservation lapses before anyone resumes: the charge
    /// is refunded once and nothing is sold.
    @Test func aChargeCutShortPastTheReservationIsRefundedOnce() async throws {
        let (sale, faults) = try await Self.sale()
        let order = try #require(try await sale.place("d-1", "u-1", key: "k").order)
        faults.arm(.charged)
        await #expect(throws: Crash.self) { _ = try await sale.shop.payOrder(Self.pay(order)) }
        await sale.memory.clock.advance(by: .seconds(700))
        let finished = try await sale.shop.reconcilePayments(olderThan: .seconds(30))
        guard case .reservationExpired(let expired, refunded: true)? = finished[order.id] else { Issue.record("\(finished)"); return }
        #expect(expired.status == .expired)
        #expect(await sale.memory.gateway.charges.count == 1)
        #expect(await sale.memory.gateway.refunds.count == 1)
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.sold == 0 && stock.inventory.reserved == 0 && stock.inventory.available == 10)
        _ = try Projection(replaying: await sale.memory.events.readAll(from: 0, limit: 10_000).map(\.envelope))
    }

    /// Ten requests with one key and five with keys of their own, all at once, for one order.
    @Test func concurrentDuplicatesChargeOnce() async throws {
        let (sale, _) = try await Self.sale()
        let order = try #require(try await sale.place("d-1", "u-1", 2, key: "k").order)
        let keys = Array(repeating: IdempotencyKey("same"), count: 10) + (0..<5).map { IdempotencyKey("other-\($0)") }
        let outcomes = try await withThrowingTaskGroup(of: PayOrderOutcome.self) { group in
            for key in keys {
                group.addTask { try await sale.shop.payOrder(PayOrderCommand(orderID: order.id, userID: order.userID, idempotencyKey: key)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { if case .paid = $0 { true } else { false } }, "\(outcomes)")
        try await Self.expectPaidOnce(sale, order)
    }

    /// A key answers only for the order it was first used for; another buyer's order is not found.
    @Test func aKeyIsBoundToItsOrder() async throws {
        let (sale, _) = try await Self.sale()
        let mine = try #require(try await sale.place("d-1", "u-b", key: "k1").order)
        let second = try #require(try await sale.place("d-1", "u-b", key: "k2").order)
        let theirs = try #require(try await sale.place("d-1", "u-a", key: "k1").order)
        guard case .paid = try await sale.pay(mine, key: "bk") else { Issue.record("first payment"); return }
        let other = try await sale.shop.payOrder(PayOrderCommand(orderID: theirs.id, userID: "u-b", idempotencyKey: "bk"))
        #expect(other == .orderNotFound(theirs.id), "another buyer's order is not shown")
        #expect(try await sale.pay(second, key: "bk") == .idempotencyKeyReused(second.id))
        let untouched = [try await sale.memory.orders.order(second.id)?.status, try await sale.memory.orders.order(theirs.id)?.status]
        #expect(untouched == [.reserved, .reserved])
        #expect(await sale.memory.gateway.charges.count == 1)
    }

    // MARK: - Support

    static func sale() async throws -> (SaleFixture, Faults) {
        let faults = Faults()
        var sale = SaleFixture()
        sale.faults = faults
        try await sale.open([SaleFixture.terms("d-1", stock: 10)])
        return (sale, faults)
    }

    static func pay(_ order: Order) -> PayOrderCommand { PayOrderCommand(orderID: order.id, userID: order.userID, idempotencyKey: "pay-1") }

    /// One charge, the units sold once, the order paid by that charge, no refund, and every event
    /// of the money path in the store exactly once, replaying to the same state.
    static func expectPaidOnce(_ sale: SaleFixture, _ order: Order, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let charges = await sale.memory.gateway.charges
        #expect(charges.count == 1, "charged \(charges)", sourceLocation: sourceLocation)
        #expect(await sale.memory.gateway.refunds.isEmpty, sourceLocation: sourceLocation)
        let stored = try #require(try await sale.memory.orders.order(order.id), sourceLocation: sourceLocation)
        #expect(stored.status == .paid && stored.paymentID == charges.first, sourceLocation: sourceLocation)
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.sold == order.quantity && stock.inventory.reserved == 0, "\(stock.inventory)", sourceLocation: sourceLocation)
        let log = await sale.memory.events.readAll(from: 0, limit: 10_000).map(\.envelope)
        let payment = try #require(charges.first, sourceLocation: sourceLocation)
        #expect(log.filter { $0.aggregateID == .payment(payment) }.map(\.type) == ["PaymentRequested", "PaymentCompleted"], sourceLocation: sourceLocation)
        #expect(log.filter { $0.aggregateID == .order(order.id) }.map(\.type) == ["OrderPlaced", "OrderPaid"], sourceLocation: sourceLocation)
        #expect(log.filter { $0.type == "StockConfirmed" }.count == 1, sourceLocation: sourceLocation)
        #expect(log.filter { $0.type == "PaymentRequested" }.count == 1, "one payment for the order", sourceLocation: sourceLocation)
        let projection = try Projection(replaying: log)
        #expect(projection.orders[order.id] == stored, sourceLocation: sourceLocation)
        #expect(projection.gate("d-1")?.snapshot.inventory == stock.inventory, sourceLocation: sourceLocation)
    }
}

struct Crash: Error {}

/// Throws once at the armed step.
final class Faults: FaultInjector {
    let armed = Mutex<PaymentStep?>(nil)
    func arm(_ step: PaymentStep) { armed.withLock { $0 = step } }
    func reach(_ step: PaymentStep) async throws {
        let fire = armed.withLock { armed in
            guard armed == step else { return false }
            armed = nil
            return true
        }
        if fire { throw Crash() }
    }
}
