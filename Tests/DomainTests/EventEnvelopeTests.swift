import Domain
import DomainMemory
import Foundation
import Testing

@Suite struct EventEnvelopeTests {
    /// A sale that produces every event type at least once.
    static func everyEventType() async throws -> [EventEnvelope] {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 2, limit: 2, ttl: .seconds(60), window: .seconds(60))])
        let paid = try #require(try await sale.place("d-1", "u-1", key: "k1").order)
        _ = try await sale.pay(paid)
        _ = try await sale.cancel(paid)  // StockReturned, PaymentRefunded, OrderRefunded
        let cancelled = try #require(try await sale.place("d-1", "u-2", 2, key: "k1").order)  // DealSoldOut
        _ = try await sale.cancel(cancelled)  // StockReleased, DealReopened
        _ = try await sale.place("d-1", "u-3", key: "k1")
        await sale.memory.clock.advance(by: .seconds(61))
        _ = try await sale.shop.expireReservations()  // StockExpired, OrderExpired
        _ = try await sale.shop.restock("d-1", quantity: 1)
        _ = try await sale.shop.endDeal("d-1")
        let declining = SaleFixture(declineRate: 1)
        try await declining.open([SaleFixture.terms("d-1", stock: 2)])
        _ = try await declining.pay(try #require(try await declining.place("d-1", "u-1", key: "k").order))
        return await sale.memory.events.readAll(from: 0, limit: .max).map(\.envelope)
            + declining.memory.events.readAll(from: 0, limit: .max).map(\.envelope).filter { $0.type == "PaymentFailed" }
    }

    @Test func everyEventTypeRoundTripsThroughJSON() async throws {
        let events = try await Self.everyEventType()
        #expect(Set(events.map(\.type)) == Set(DomainEvent.typeNames))
        let data = try JSONEncoder().encode(events)
        let decoded = try JSONDecoder().decode([EventEnvelope].self, from: data)
        #expect(decoded == events)
    }

    @Test func envelopeCarriesItsFields() throws {
        let envelope = EventEnvelope(
            aggregateID: .deal("d-1"), sequence: 2, occurredAt: .seconds(5), payload: .deal(.started(DealStarted(dealID: "d-1", at: .seconds(5)))))
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(envelope)) as! [String: Any]
        #expect(object["eventId"] as? String == "deal/d-1#2")
        #expect(object["type"] as? String == "DealStarted")
        #expect(object["aggregateId"] as? String == "deal/d-1")
        #expect(object["sequence"] as? Int == 2)
        #expect(object["occurredAt"] as? Int == 5_000_000_000)
        #expect(object["schemaVersion"] as? Int == 1)
    }

    @Test(arguments: [
        (#"{"eventId":"deal/d-1#1","type":"Nope","aggregateId":"deal/d-1","sequence":1,"occurredAt":0,"schemaVersion":1,"payload":{}}"#, "unknown event type"),
        (#"{"eventId":"deal/d-1#1","type":"DealStarted","aggregateId":"deal/d-1","sequence":1,"occurredAt":0,"schemaVersion":9,"payload":{"dealID":"d-1","at":0}}"#, "schema version 9"),
        (#"{"eventId":"deal/d-1#1","type":"DealStarted","aggregateId":"car/d-1","sequence":1,"occurredAt":0,"schemaVersion":1,"payload":{"dealID":"d-1","at":0}}"#, "unknown kind"),
    ])
    func malformedEnvelopesAreRejectedWithAReason(_ json: String, _ reason: String) {
        do {
            _ = try JSONDecoder().decode(EventEnvelope.self, from: Data(json.utf8))
            Issue.record("decoded \(json)")
        } catch {
            #expect(String(describing: error).contains(reason))
        }
    }

    @Test func replayRebuildsEveryAggregate() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 3)])
        let order = try #require(try await sale.place("d-1", "u-1", 2, key: "k").order)
        _ = try await sale.pay(order)
        let log = await sale.memory.events.readAll(from: 0, limit: .max).map(\.envelope)
        let projection = try Projection(replaying: log)
        #expect(projection.gate("d-1") == (await sale.memory.ledger.gate("d-1")))
        #expect(projection.orders[order.id] == (try await sale.memory.orders.order(order.id)))
        #expect(projection.payments.values.map(\.status) == [.completed])
        // Per aggregate: the order's own stream rebuilds it.
        let stream = await sale.memory.events.read(.order(order.id), from: 1)
        let rebuilt = try Order(replaying: stream.map { e in
            guard case .order(let event) = e.payload else { fatalError() }
            return (e.sequence, event)
        })
        #expect(rebuilt == projection.orders[order.id])
    }

    @Test func projectionRefusesAGap() throws {
        var projection = Projection()
        let started = EventEnvelope(
            aggregateID: .deal("d-1"), sequence: 2, occurredAt: .seconds(1), payload: .deal(.started(DealStarted(dealID: "d-1", at: .seconds(1)))))
        try projection.apply(started)  // waits for sequence 1
        #expect(throws: ProjectionError.self) { try projection.finish() }
    }

    /// The log's global order interleaves streams as their events reached the writer: an order's
    /// payment may come before its placement. Each stream is applied in its own order.
    @Test func projectionAppliesEachStreamInItsOwnOrder() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 5)])
        let order = try #require(try await sale.place("d-1", "u-1", key: "k").order)
        _ = try await sale.pay(order)
        let log = await sale.memory.events.readAll(from: 0, limit: 1000).map(\.envelope)
        let inOrder = try Projection(replaying: log)
        // The order's and the payment's events moved to the front, newest first.
        let moved = log.filter { if case .order = $0.aggregateID { true } else if case .payment = $0.aggregateID { true } else { false } }
        let shuffled = moved.reversed() + log.filter { e in !moved.contains { $0.eventID == e.eventID } }
        let outOfOrder = try Projection(replaying: shuffled)
        #expect(outOfOrder.orders == inOrder.orders && outOfOrder.payments == inOrder.payments)
        #expect(outOfOrder.orders[order.id]?.status == .paid)
    }
}
