import Domain
import Foundation
import Testing

/// Events read from outside (Kafka, the event store) may break the rules; an event an aggregate
/// cannot take in its state is an error naming it, never a trap, and changes nothing. Each kind of
/// aggregate is fed one, through its own `applying` and through the `Projection` the writer's
/// replay and the audit use.
@Suite struct OutsideEventsTests {
    /// The log of a placed and paid order, then `extra` events, each the next in its stream.
    static func log(_ extra: (_ order: Order, _ log: [EventEnvelope]) -> [EventEnvelope]) async throws -> [EventEnvelope] {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 3)])
        let order = try #require(try await sale.place("d-1", "u-1", 1, key: "k").order)
        _ = try await sale.pay(order)
        let log = await sale.memory.events.readAll(from: 0, limit: .max).map(\.envelope)
        return log + extra(try #require(try await sale.memory.orders.order(order.id)), log)
    }

    static func next(_ log: [EventEnvelope], _ stream: StreamID, _ payload: DomainEvent) -> EventEnvelope {
        let last = log.filter { $0.aggregateID == stream }.map(\.sequence).max() ?? 0
        return EventEnvelope(aggregateID: stream, sequence: last + 1, occurredAt: .seconds(2), payload: payload)
    }

    @Test func anOrderPaidTwiceIsAnErrorNotATrap() async throws {
        let log = try await Self.log { order, log in
            [Self.next(log, .order(order.id), .order(.paid(OrderPaid(orderID: order.id, paymentID: "p-x", at: .seconds(2)))))]
        }
        #expect(throws: ProjectionError.self) { _ = try Projection(replaying: log) }
        let paid = try Projection(replaying: log.dropLast()).orders.values.first!
        var order = paid
        #expect(throws: ReplayError.self) { try order.applying(.paid(OrderPaid(orderID: order.id, paymentID: "p-x", at: .seconds(2))), sequence: 4) }
        #expect(order == paid, "nothing changed")
    }

    @Test func unitsThatAreNotThereAreAnErrorNotATrap() async throws {
        // Releasing or returning an order's units that no order of that name holds cannot apply.
        for payload in [
            DomainEvent.inventory(.released(StockReleased(dealID: "d-1", orderID: "o-elsewhere", quantity: 1, at: .seconds(2)))),
            .inventory(.returned(StockReturned(dealID: "d-1", orderID: "o-elsewhere", quantity: 1, at: .seconds(2)))),
        ] {
            let log = try await Self.log { _, log in [Self.next(log, .inventory("d-1"), payload)] }
            #expect(throws: ProjectionError.self, "\(payload)") { _ = try Projection(replaying: log) }
        }
    }

    @Test func aDealStartedTwiceAndAPaymentCompletedTwiceAreErrorsNotTraps() async throws {
        let started = try await Self.log { _, log in [Self.next(log, .deal("d-1"), .deal(.started(DealStarted(dealID: "d-1", at: .seconds(2)))))] }
        #expect(throws: ProjectionError.self) { _ = try Projection(replaying: started) }
        let completed = try await Self.log { order, log in
            let payment = try! #require(order.paymentID)
            return [Self.next(log, .payment(payment), .payment(.completed(PaymentCompleted(paymentID: payment, orderID: order.id, at: .seconds(2)))))]
        }
        #expect(throws: ProjectionError.self) { _ = try Projection(replaying: completed) }
    }
}
