public import Domain
import Foundation

/// Orders in the `orders` collection, one document per order (`_id` is the order id), with
/// optimistic concurrency on `version`. Index `userID_placedAt_id`: `{userID: 1, placedAt: -1, _id: -1}` serves a
/// buyer's orders newest first. The durable order read model: the event consumer writes it from
/// Kafka. See `docs/data/mongo.md`.
public struct MongoOrderRepository: OrderRepository {
    let documents: MongoDocuments<Order>

    public init(client: MongoClient) async throws {
        documents = MongoDocuments(client: client, collection: "orders")
        // Versions before 2026-11-28 built `user_placedAt` with its keys sorted by name (useless for
        // this query): drop it when present. Written as text: the index's key order is the point.
        _ = try? await client.command(["dropIndexes": documents.collection, "index": "user_placedAt"])
        _ = try await client.command(name: "createIndexes", json: #"""
            {"createIndexes":"\#(documents.collection)","indexes":[{"key":{"userID":1,"placedAt":-1,"_id":-1},"name":"userID_placedAt_id"}]}
            """#)
    }

    private init(documents: MongoDocuments<Order>) { self.documents = documents }

    /// The same collection, its index already made, through another pool (`ShopServer`'s request
    /// pool, whose reads give up sooner).
    public func through(_ client: MongoClient) -> MongoOrderRepository {
        MongoOrderRepository(documents: MongoDocuments(client: client, collection: documents.collection))
    }

    public func save(_ order: Order, expectedVersion: Int) async throws {
        try await documents.save(order, id: order.id.rawValue, expectedVersion: expectedVersion, stream: "order/\(order.id)")
    }

    public func order(_ id: OrderID) async throws -> Order? { try await documents.get(id.rawValue) }

    public func orders(_ ids: [OrderID]) async throws -> [Order] { try await documents.get(ids.map(\.rawValue)) }

    public func orders(of user: UserID, after: OrderID?, limit: Int) async throws -> [Order] {
        var filter: [String: Any] = ["userID": user.rawValue]
        if let after, let cursor = try await order(after) {
            let placed = cursor.placedAt.nanosecondsSinceEpoch
            filter["$or"] = [["placedAt": ["$lt": placed]], ["placedAt": placed, "_id": ["$lt": after.rawValue]]]
        }
        return try await documents.find(filter, sort: [("placedAt", -1), ("_id", -1)], options: ["limit": limit])
    }

    /// New orders in one `insert_many`, changed ones one by one (each a version check).
    public func save(_ batch: [(order: Order, expectedVersion: Int)]) async throws -> [OrderID] {
        try await documents.save(batch.map { (value: $0.order, expectedVersion: $0.expectedVersion) }, id: \.id.rawValue).map { try OrderID(validating: $0) }
    }

    /// Drops every order (what `replay` rebuilds).
    public func removeAll() async throws { try await documents.client.drop(documents.collection) }
}

/// Payments in the `payments` collection (`_id` is the payment id), with optimistic concurrency
/// on `version`: the durable read model the writer keeps from payment events (the request path
/// keeps payments in Redis, `RedisPaymentRepository`, and reads here only what Redis no longer holds).
public struct MongoPaymentRepository: PaymentRepository {
    let documents: MongoDocuments<Payment>

    public init(client: MongoClient) {
        documents = MongoDocuments(client: client, collection: "payments")
    }

    public func save(_ payment: Payment, expectedVersion: Int) async throws {
        try await documents.save(payment, id: payment.id.rawValue, expectedVersion: expectedVersion, stream: "payment/\(payment.id)")
    }

    public func payment(_ id: PaymentID) async throws -> Payment? { try await documents.get(id.rawValue) }

    public func payments(_ ids: [PaymentID]) async throws -> [Payment] { try await documents.get(ids.map(\.rawValue)) }

    /// New payments in one `insert_many`, changed ones one by one (each a version check).
    public func save(_ batch: [(payment: Payment, expectedVersion: Int)]) async throws -> [PaymentID] {
        try await documents.save(batch.map { (value: $0.payment, expectedVersion: $0.expectedVersion) }, id: \.id.rawValue).map { try PaymentID(validating: $0) }
    }

    /// The same collection through another pool (the request path's, whose reads give up sooner).
    public func through(_ client: MongoClient) -> MongoPaymentRepository { MongoPaymentRepository(client: client) }
}

/// Products and deal terms in the `products` and `deals` collections (`_id` is the id); a page of
/// deals is read in `_id` order from the default index. Cached in Redis by `CachedDealCatalog`.
public struct MongoDealCatalog: DealCatalog {
    let products: MongoDocuments<Product>
    let terms: MongoDocuments<DealTerms>

    public init(client: MongoClient) {
        products = MongoDocuments(client: client, collection: "products")
        terms = MongoDocuments(client: client, collection: "deals")
    }

    public func add(_ product: Product) async throws { try await products.put(product, id: product.id.rawValue) }
    public func add(_ terms: DealTerms) async throws { try await self.terms.put(terms, id: terms.id.rawValue) }
    public func product(_ id: ProductID) async throws -> Product? { try await products.get(id.rawValue) }
    public func products(_ ids: [ProductID]) async throws -> [Product] { try await products.get(ids.map(\.rawValue)) }
    public func deal(_ id: DealID) async throws -> DealTerms? { try await terms.get(id.rawValue) }
    public func deals(_ ids: [DealID]) async throws -> [DealTerms] { try await terms.get(ids.map(\.rawValue)) }

    public func deals(after: DealID?, limit: Int) async throws -> [DealTerms] {
        try await terms.find(after.map { ["_id": ["$gt": $0.rawValue]] } ?? [:], sort: [("_id", 1)], options: ["limit": limit])
    }
}
