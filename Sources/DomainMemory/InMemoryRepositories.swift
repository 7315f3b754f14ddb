public import Domain

/// Orders in a dictionary, with optimistic concurrency on the order's version.
public actor InMemoryOrderRepository: OrderRepository {
    private var stored: [OrderID: Order] = [:]
    /// How many calls each method received: tests use it to prove batching.
    public private(set) var calls: [String: Int] = [:]

    public init() {}

    public func save(_ order: Order, expectedVersion: Int) throws {
        let actual = stored[order.id]?.version ?? 0
        guard actual == expectedVersion else {
            throw VersionConflict(stream: "order/\(order.id)", expected: expectedVersion, actual: actual)
        }
        stored[order.id] = order
    }

    public func order(_ id: OrderID) -> Order? {
        calls["order", default: 0] += 1
        return stored[id]
    }

    public func orders(_ ids: [OrderID]) -> [Order] {
        calls["orders", default: 0] += 1
        return ids.compactMap { stored[$0] }
    }

    public func orders(of user: UserID, after: OrderID?, limit: Int) -> [Order] {
        calls["ordersOfUser", default: 0] += 1
        let mine = stored.values.filter { $0.userID == user }
            .sorted { ($0.placedAt, $0.id) > ($1.placedAt, $1.id) }
        let start = after.flatMap { cursor in mine.firstIndex { $0.id == cursor }.map { $0 + 1 } } ?? 0
        return Array(mine.dropFirst(start).prefix(limit))
    }

    public func all() -> [Order] { stored.values.sorted { $0.id < $1.id } }
    public func removeAll() { stored.removeAll() }
}

public actor InMemoryPaymentRepository: PaymentRepository {
    private var stored: [PaymentID: Payment] = [:]

    public init() {}

    public func save(_ payment: Payment, expectedVersion: Int) throws {
        let actual = stored[payment.id]?.version ?? 0
        guard actual == expectedVersion else {
            throw VersionConflict(stream: "payment/\(payment.id)", expected: expectedVersion, actual: actual)
        }
        stored[payment.id] = payment
    }

    public func payment(_ id: PaymentID) -> Payment? { stored[id] }
    public func all() -> [Payment] { stored.values.sorted { $0.id < $1.id } }
}

/// Products and deal terms in dictionaries.
public actor InMemoryDealCatalog: DealCatalog {
    private var products: [ProductID: Product] = [:]
    private var terms: [DealID: DealTerms] = [:]
    public private(set) var calls: [String: Int] = [:]

    public init() {}

    public func add(_ product: Product) { products[product.id] = product }
    public func add(_ terms: DealTerms) { self.terms[terms.id] = terms }

    public func product(_ id: ProductID) -> Product? {
        calls["product", default: 0] += 1
        return products[id]
    }

    public func products(_ ids: [ProductID]) -> [Product] {
        calls["products", default: 0] += 1
        return ids.compactMap { products[$0] }
    }

    public func deal(_ id: DealID) -> DealTerms? {
        calls["deal", default: 0] += 1
        return terms[id]
    }

    public func deals(_ ids: [DealID]) -> [DealTerms] {
        calls["deals", default: 0] += 1
        return ids.compactMap { terms[$0] }
    }

    public func deals(after: DealID?, limit: Int) -> [DealTerms] {
        calls["dealsPage", default: 0] += 1
        return Array(terms.values.filter { after == nil || $0.id > after! }.sorted { $0.id < $1.id }.prefix(limit))
    }
}

/// Idempotency records in a dictionary; the first result for a key wins.
public actor InMemoryIdempotencyStore: IdempotencyStore {
    private var stored: [IdempotencyStoreKey: StoredResult] = [:]
    private var pendingSince: [IdempotencyStoreKey: Instant] = [:]

    public init() {}

    public func result(for scope: IdempotencyStoreKey) -> StoredResult? { stored[scope] }

    public func claim(_ pending: StoredResult, for scope: IdempotencyStoreKey, at instant: Instant) -> StoredResult? {
        if let found = stored[scope] { return found }
        stored[scope] = pending
        pendingSince[scope] = instant
        return nil
    }

    public func settle(_ result: StoredResult?, for scope: IdempotencyStoreKey) {
        stored[scope] = result
        pendingSince[scope] = nil
    }

    public func pendingClaims(before instant: Instant, limit: Int) -> [IdempotencyStoreKey] {
        pendingSince.filter { $0.value < instant }.sorted { ($0.value, $0.key.key) < ($1.value, $1.key.key) }.prefix(limit).map(\.key)
    }
}
