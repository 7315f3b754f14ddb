public import Domain
public import Foundation
public import LiveRuntime

/// What one GraphQL request runs with: the shop, the caller, and the request's DataLoaders.
public struct RequestContext: Sendable {
    public let shop: Shop
    /// The caller, from the `X-User-Id` header (`Identity` reads it; real authentication replaces it).
    public let userID: UserID?
    public let now: Instant
    let products: BatchLoader<ProductID, Product>
    let deals: BatchLoader<DealID, DealTerms>
    let stock: BatchLoader<DealID, DealStock>

    let metrics: ShopMetrics?
    /// This replica's subscribers (subscriptions only).
    let hub: EventHub?
    /// The callers admin mutations accept.
    let admins: Set<UserID>
    /// Why new orders are refused now, if they are (the outbox's bound on the backends: orders wait
    /// while it is full); nil: no bound, the embedded mode.
    let orderRefusal: (@Sendable () -> String?)?

    public init(
        shop: Shop, userID: UserID?, now: Instant, metrics: ShopMetrics? = nil, hub: EventHub? = nil, admins: Set<UserID> = [],
        orderRefusal: (@Sendable () -> String?)? = nil
    ) {
        self.orderRefusal = orderRefusal
        self.metrics = metrics
        self.admins = admins
        self.hub = hub
        self.shop = shop
        self.userID = userID
        self.now = now
        let ports = shop.ports
        products = BatchLoader { ids in
            Dictionary(try await ports.catalog.products(ids).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        }
        deals = BatchLoader { ids in
            Dictionary(try await ports.catalog.deals(ids).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        }
        stock = BatchLoader { ids in try await ports.ledger.stocks(ids) }
    }

    /// A deal with its live counters, through the loaders.
    func deal(_ id: DealID) async throws -> DealNode? {
        guard let terms = try await deals.load(id) else { return nil }
        return DealNode(terms, try await stock.load(id), now: now)
    }

    /// Loads a page of deals' terms, stock and products in one batch each.
    func prime(deals terms: [DealTerms]) async throws {
        try await stock.prime(terms.map(\.id))
        try await products.prime(terms.map(\.productID))
    }
}

/// The caller's identity, read in one place. For now the `X-User-Id` header, with the admins a
/// configured list of user ids (`--admin-users`, default `admin`); a later issue replaces both with
/// real authentication.
public enum Identity {
    public static let header = "X-User-Id"
    public static let defaultAdmins: Set<UserID> = ["admin"]

    public static func user(from value: String?) throws(ValidationError) -> UserID? {
        guard let value, !value.isEmpty else { return nil }
        return try UserID(validating: value, field: header)
    }
}

/// GraphQL reports a resolver's error by its localized description: make it the field and reason.
extension ValidationError: LocalizedError {
    public var errorDescription: String? { description }
}
