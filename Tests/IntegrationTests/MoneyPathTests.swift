import Domain
import DomainMemory
import Foundation
import Live
import Synchronization
import Testing

/// The exactly-once money path on the live server's own composition (Redis claims, payments and
/// gate): a payment cut short after the charge is finished by the reconciler with one
/// charge, and a refund cut short after the provider's by the reconciler with one refund; twenty concurrent payments of one order with four keys charge once; the payment reaches
/// MongoDB through Kafka.
@Suite(.enabled(if: Backends.allThere))
struct MoneyPathTests {
    @Test func aPaymentCutShortOnRedisIsFinishedOnceByTheReconciler() async throws {
        let (sale, gateway, ports) = try await Self.sale()
        var shop = Shop(ports: ports)
        shop.faults = OneFault(.charged)
        guard case .placed(let order) = try await shop.placeOrder(PlaceOrderCommand(dealID: sale.dealID, userID: "u-1", quantity: 2, idempotencyKey: "k")) else {
            Issue.record("not placed"); return
        }
        await #expect(throws: OneFault.Crash.self) { _ = try await shop.payOrder(PayOrderCommand(orderID: order.id, userID: "u-1", idempotencyKey: "pay")) }
        #expect(try await ports.orders.order(order.id)?.status == .reserved, "cut short before the order was marked")
        try await Task.sleep(for: .milliseconds(20))
        let finished = try await shop.reconcilePayments(olderThan: .milliseconds(10))
        guard case .paid(let paid)? = finished[order.id] else { Issue.record("reconciler gave \(finished)"); return }
        let charges = await gateway.charges
        #expect(charges.count == 1 && paid.paymentID == charges.first)
        #expect(try await ports.orders.order(order.id)?.status == .paid)
        #expect(try await ports.payments.payment(try #require(paid.paymentID))?.status == .completed)
        let stock = try #require(try await ports.ledger.stock(sale.dealID))
        #expect(stock.inventory.sold == 2 && stock.inventory.reserved == 0 && stock.inventory.available == 8)
        #expect(try await shop.reconcilePayments(olderThan: .zero).isEmpty, "nothing left pending")
        // The retry answers from the record; the payment reaches MongoDB through Kafka.
        #expect(try await shop.payOrder(PayOrderCommand(orderID: order.id, userID: "u-1", idempotencyKey: "pay")) == .paid(paid))
        #expect(try await sale.deliver([order.id], within: .seconds(60)) == 1)
        #expect(try await sale.durable.order(order.id)?.status == .paid)
    }

    /// Cancelling a paid order, cut short after the provider refunded: nothing half done is stored
    /// (the units stay sold, the order paid) until the reconciler's pass, which returns the units
    /// and refunds the order and payment once, and the refund reaches MongoDB through Kafka.
    @Test func aRefundCutShortOnRedisIsFinishedOnceByTheReconciler() async throws {
        let (sale, gateway, ports) = try await Self.sale()
        var shop = Shop(ports: ports)
        guard case .placed(let order) = try await shop.placeOrder(PlaceOrderCommand(dealID: sale.dealID, userID: "u-3", quantity: 2, idempotencyKey: "k")),
            case .paid = try await shop.payOrder(PayOrderCommand(orderID: order.id, userID: "u-3", idempotencyKey: "pay"))
        else { Issue.record("not placed and paid"); return }
        shop.faults = OneFault(.refundSent)
        await #expect(throws: OneFault.Crash.self) { _ = try await shop.cancelOrder(CancelOrderCommand(orderID: order.id, userID: "u-3")) }
        #expect(await gateway.refunds.count == 1)
        #expect(try await ports.orders.order(order.id)?.status == .paid)
        #expect(try #require(try await ports.ledger.stock(sale.dealID)).inventory.sold == 2, "no units back for an order still paid")

        try await Task.sleep(for: .milliseconds(20))
        let finished = try await shop.reconcileRefunds(olderThan: .milliseconds(10))
        guard case .refunded(let refunded)? = finished[order.id] else { Issue.record("reconciler gave \(finished)"); return }
        #expect(await gateway.refunds.count == 1 && refunded.status == .refunded)
        #expect(try await ports.payments.payment(try #require(refunded.paymentID))?.status == .refunded)
        let stock = try #require(try await ports.ledger.stock(sale.dealID))
        #expect(stock.inventory.sold == 0 && stock.inventory.available == 10)
        #expect(try await shop.reconcileRefunds(olderThan: .zero).isEmpty, "nothing left pending")
        #expect(try await sale.deliver([order.id], within: .seconds(60)) == 1)
        #expect(try await sale.durable.order(order.id)?.status == .refunded)
    }

    /// A sale on the live composition with the simulated provider, whose charges and refunds the
    /// tests count.
    static func sale() async throws -> (LiveSale, SimulatedPaymentGateway, Shop.Ports) {
        let sale = try await LiveSale(stock: 10, limit: 2)
        let gateway = SimulatedPaymentGateway()
        var ports = sale.composition.ports
        ports.gateway = gateway
        return (sale, gateway, ports)
    }

    @Test func concurrentPaymentsOfOneOrderChargeOnce() async throws {
        let sale = try await LiveSale(stock: 10, limit: 2)
        let gateway = SimulatedPaymentGateway()
        var ports = sale.composition.ports
        ports.gateway = ProviderLatency(gateway: gateway, latency: .milliseconds(20))
        let shop = Shop(ports: ports)
        guard case .placed(let order) = try await shop.placeOrder(PlaceOrderCommand(dealID: sale.dealID, userID: "u-2", quantity: 1, idempotencyKey: "k")) else {
            Issue.record("not placed"); return
        }
        let outcomes = try await withThrowingTaskGroup(of: PayOrderOutcome.self) { group in
            for n in 0..<20 {
                group.addTask { try await shop.payOrder(PayOrderCommand(orderID: order.id, userID: "u-2", idempotencyKey: IdempotencyKey("key-\(n % 4)"))) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { if case .paid = $0 { true } else { false } }, "\(outcomes)")
        #expect(await gateway.charges.count == 1)
        let stock = try #require(try await ports.ledger.stock(sale.dealID))
        #expect(stock.inventory.sold == 1 && stock.inventory.reserved == 0)
    }
}

/// Throws once at one step.
final class OneFault: FaultInjector {
    struct Crash: Error {}
    let step: Mutex<PaymentStep?>
    init(_ step: PaymentStep) { self.step = Mutex(step) }
    func reach(_ step: PaymentStep) async throws {
        let fire = self.step.withLock { armed in
            guard armed == step else { return false }
            armed = nil
            return true
        }
        if fire { throw Crash() }
    }
}
