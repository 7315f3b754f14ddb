import Domain
import DomainMemory
import Foundation
import LiveMongo
import LiveTools
import Testing

/// `flashdeal replay`: drop the read models (Redis stock gates, MongoDB orders), rebuild them from
/// the event store, and get the same state back, idempotency keys and per-user limits included.
@Suite(.enabled(if: Backends.redisURL != nil && Backends.mongoURI != nil)) struct ReplayTests {
    @Test func dropReplayCompare() async throws {
        let ledger = try await Backends.redisLedger()
        let client = try await Backends.mongo()
        let events = try await MongoEventStore(client: client)
        let orders = try await MongoOrderRepository(client: client)
        let memory = InMemoryShop()
        var ports = memory.shop.ports
        ports.ledger = ledger
        ports.events = events
        ports.orders = orders
        let shop = Shop(ports: ports)
        try await shop.createProduct(try Product(id: "p", name: "Item", description: ""))
        let now = await memory.clock.now()
        let terms = try DealTerms(
            id: "deal-r", productID: "p", price: Money(minorUnits: 500), startsAt: now, endsAt: now + .seconds(3600), perUserLimit: 2,
            reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 5, reservationCap: 1, cancelCoolDown: .seconds(60))
        _ = try await shop.scheduleDeal(terms)
        _ = try await shop.startDeal("deal-r")
        var placed: [Order] = []
        for (user, quantity) in [("a", 2), ("b", 1), ("c", 2)] {
            if case .placed(let order) = try await shop.placeOrder(PlaceOrderCommand(dealID: "deal-r", userID: UserID(user), quantity: quantity, idempotencyKey: "k")) {
                placed.append(order)
            }
        }
        _ = try await shop.payOrder(PayOrderCommand(orderID: placed[0].id, userID: "a", idempotencyKey: "p"))
        _ = try await shop.cancelOrder(CancelOrderCommand(orderID: placed[1].id, userID: "b"))
        _ = try await shop.restock("deal-r", quantity: 3)
        let stockBefore = try #require(try await ledger.stock("deal-r"))
        let ordersBefore = try await orders.orders(placed.map(\.id)).sorted { $0.id < $1.id }

        try await ledger.drop("deal-r")
        try await orders.removeAll()
        #expect(try await ledger.stock("deal-r") == nil)
        #expect(try await orders.orders(placed.map(\.id)).isEmpty)

        let summary = try await ReadModelReplay(events: events, ledger: ledger, orders: orders).run()
        #expect(summary.deals == 1 && summary.orders == 3)
        #expect(try await ledger.stock("deal-r") == stockBefore)
        #expect(try await orders.orders(placed.map(\.id)).sorted { $0.id < $1.id } == ordersBefore)
        // The rebuilt gate still knows the keys and the limits.
        #expect(try await shop.placeOrder(PlaceOrderCommand(dealID: "deal-r", userID: "a", quantity: 2, idempotencyKey: "k")) == .placed(ordersBefore.first { $0.userID == "a" }!))
        #expect(try await shop.placeOrder(PlaceOrderCommand(dealID: "deal-r", userID: "a", quantity: 1, idempotencyKey: "k2")) == .limitExceeded(limit: 2, remaining: 0))
        // And the buyer rules: b cancelled (cooling down), c holds the one unpaid reservation the cap allows.
        #expect(try await shop.placeOrder(PlaceOrderCommand(dealID: "deal-r", userID: "b", quantity: 1, idempotencyKey: "k2")) == .coolingDown(retryAfter: .seconds(60)))
        #expect(try await shop.placeOrder(PlaceOrderCommand(dealID: "deal-r", userID: "c", quantity: 1, idempotencyKey: "k2")) == .reservationCapReached(cap: 1))
    }
}
