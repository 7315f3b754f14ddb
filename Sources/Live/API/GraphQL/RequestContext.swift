public import Domain
public import Foundation
public import LiveRuntime
public import Tracing

/// What one GraphQL request runs with: the shop, the caller, and the request's DataLoaders.
public struct RequestContext: Sendable {
    public let shop: Shop
    /// Who sent the request, as its credentials prove (``Authenticator``); nil: anonymous.
    public let caller: Caller?
    public var userID: UserID? { caller?.user }
    public let now: Instant
    let products: BatchLoader<ProductID, Product>
    let deals: BatchLoader<DealID, DealTerms>
    let stock: BatchLoader<DealID, DealStock>

    let metrics: ShopMetrics?
    /// This replica's subscribers (subscriptions only).
    let hub: EventHub?
    /// Why new orders are refused now, if they are (the outbox's bound on the backends: orders wait
    /// while it is full); nil: no bound, the embedded mode.
    let orderRefusal: (@Sendable () -> String?)?
    /// Takes a token from the caller's bucket: nil when there was one, else how long until there is
    /// (nil closure: no limit).
    let buyerToken: (@Sendable () async -> Duration?)?
    /// The waiting rooms (nil: a deal with one takes no orders here).
    let waitingRoom: WaitingRoomAccess?
    /// The operation's span, which resolvers tag with what they decided (nil: not traced).
    var span: (any Span)?
    /// The request's access-log notes (nil: a WebSocket operation, or no HTTP request).
    let notes: RequestNotes?

    public init(
        shop: Shop, caller: Caller?, now: Instant, metrics: ShopMetrics? = nil, hub: EventHub? = nil,
        orderRefusal: (@Sendable () -> String?)? = nil, buyerToken: (@Sendable () async -> Duration?)? = nil,
        waitingRoom: WaitingRoomAccess? = nil, span: (any Span)? = nil, notes: RequestNotes? = nil
    ) {
        self.span = span
        self.notes = notes
        self.waitingRoom = waitingRoom
        self.orderRefusal = orderRefusal
        self.buyerToken = buyerToken
        self.metrics = metrics
        self.hub = hub
        self.shop = shop
        self.caller = caller
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

    /// Counts a business mutation's outcome on `/metrics`, notes it for the access log, and tags the operation's span with it
    /// (`flashdeal.order.outcome`) and what it acted on (`flashdeal.deal.id`, `flashdeal.order.id`).
    func decided(_ field: String, _ outcome: Any, deal: String? = nil, order: String? = nil) {
        let name = "\(type(of: outcome))"
        metrics?.outcome(field, name)
        notes?.outcome = name
        guard let span, span.isRecording else { return }
        span.attributes["flashdeal.order.outcome"] = name
        if let deal { span.attributes["flashdeal.deal.id"] = deal }
        if let order { span.attributes["flashdeal.order.id"] = order }
    }

    /// Loads a page of deals' terms, stock and products in one batch each.
    func prime(deals terms: [DealTerms]) async throws {
        try await stock.prime(terms.map(\.id))
        try await products.prime(terms.map(\.productID))
    }
}

/// Where a caller's credentials are read from.
public enum Identity {
    /// `Authorization: Bearer <JWT>` (``Authenticator``).
    public static let authorization = "Authorization"
    /// The header a trusted gateway names the caller in, in the trusted-header mode only.
    public static let trustedHeader = "X-User-Id"
}

/// GraphQL reports a resolver's error by its localized description: make it the field and reason.
extension ValidationError: LocalizedError {
    public var errorDescription: String? { description }
}
