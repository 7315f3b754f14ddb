public import Domain

/// A ``Shop`` wired to in-memory adapters, with handles on each for inspection.
public struct InMemoryShop: Sendable {
    public let ledger: InMemoryStockLedger
    public let orders = InMemoryOrderRepository()
    public let payments = InMemoryPaymentRepository()
    public let catalog = InMemoryDealCatalog()
    public let events = InMemoryEventStore()
    public let publisher = InMemoryEventPublisher()
    public let idempotency = InMemoryIdempotencyStore()
    public let gateway: SimulatedPaymentGateway
    public let clock: ManualClock
    public let shop: Shop

    public init(start: Instant = .seconds(1_700_000_000), seed: UInt64 = 1, declineRate: Double = 0) {
        ledger = InMemoryStockLedger(journal: events)
        gateway = SimulatedPaymentGateway(seed: seed, declineRate: declineRate)
        clock = ManualClock(start)
        shop = Shop(
            ports: Shop.Ports(
                ledger: ledger, orders: orders, payments: payments, catalog: catalog, events: events,
                publisher: publisher, idempotency: idempotency, gateway: gateway, clock: clock,
                identifiers: SequentialIdentifiers()))
    }
}
