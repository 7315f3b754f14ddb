import Domain
import DomainMemory

/// A sale with products and deals on the in-memory adapters, the clock at the deals' start.
struct SaleFixture {
    static let start = Instant.seconds(1_700_000_000)
    let memory: InMemoryShop
    /// Fault injection for the money path (nil: none).
    var faults: (any FaultInjector)?
    var shop: Shop {
        var shop = memory.shop
        shop.faults = faults
        return shop
    }

    init(seed: UInt64 = 1, declineRate: Double = 0) {
        memory = InMemoryShop(start: Self.start, seed: seed, declineRate: declineRate)
    }

    static func terms(
        _ id: DealID, stock: Int, limit: Int = 2, ttl: Duration = .seconds(600), window: Duration = .seconds(300),
        startsAt: Instant = start, length: Duration = .seconds(3600), reservationCap: Int = 0, coolDown: Duration = .zero
    ) -> DealTerms {
        try! DealTerms(
            id: id, productID: "prod-1", price: Money(minorUnits: 9900), startsAt: startsAt, endsAt: startsAt + length,
            perUserLimit: limit, reservationTTL: ttl, paymentWindow: window, initialStock: stock, reservationCap: reservationCap,
            cancelCoolDown: coolDown)
    }

    /// Creates the product, schedules `deals` and starts those whose start has come.
    func open(_ deals: [DealTerms]) async throws {
        try await shop.createProduct(try Product(id: "prod-1", name: "Limited sneakers", description: "Size 270"))
        for terms in deals {
            _ = try await shop.scheduleDeal(terms)
        }
        _ = try await shop.runSchedule()
    }

    func place(_ deal: DealID, _ user: UserID, _ quantity: Int = 1, key: IdempotencyKey) async throws -> PlaceOrderOutcome {
        try await shop.placeOrder(PlaceOrderCommand(dealID: deal, userID: user, quantity: quantity, idempotencyKey: key))
    }

    func pay(_ order: Order, key: IdempotencyKey = "pay-1") async throws -> PayOrderOutcome {
        try await shop.payOrder(PayOrderCommand(orderID: order.id, userID: order.userID, idempotencyKey: key))
    }

    func cancel(_ order: Order) async throws -> CancelOrderOutcome {
        try await shop.cancelOrder(CancelOrderCommand(orderID: order.id, userID: order.userID))
    }

    func stock(_ deal: DealID) async throws -> DealStock { try await memory.ledger.stock(deal)! }
}

extension PlaceOrderOutcome {
    var order: Order? {
        if case .placed(let order) = self { return order }
        return nil
    }
}
