public import Domain
import Foundation

/// Orders in the `orders` collection, one document per order (`_id` is the order id), with
/// optimistic concurrency on `version`. Index: `{userID: 1, placedAt: -1, _id: -1}` serves a
/// buyer's orders newest first. See `docs/data/mongo.md`.
public struct MongoOrderRepository: OrderRepository {
    let client: MongoClient
    static let collection = "orders"

    public init(client: MongoClient) async throws {
        self.client = client
        _ = try await client.command([
            "createIndexes": Self.collection,
            "indexes": [["key": ["userID": 1, "placedAt": -1, "_id": -1], "name": "user_placedAt"]],
        ])
    }

    static func document(_ order: Order) throws -> [String: Any] {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(order)) as! [String: Any]
        object["_id"] = order.id.rawValue
        return object
    }

    static func order(_ document: [String: Any]) throws -> Order {
        var object = document
        object.removeValue(forKey: "_id")
        return try JSONDecoder().decode(Order.self, from: JSONSerialization.data(withJSONObject: object))
    }

    public func save(_ order: Order, expectedVersion: Int) async throws {
        let document = try Self.document(order)
        if expectedVersion == 0 {
            do {
                try await client.insert(Self.collection, [document])
            } catch let error as MongoError where error.isDuplicateKey {
                let stored = try await self.order(order.id)?.version ?? 0
                throw VersionConflict(stream: "order/\(order.id)", expected: 0, actual: stored)
            }
            return
        }
        let matched = try await client.updateOne(
            Self.collection, filter: ["_id": order.id.rawValue, "version": expectedVersion], update: ["$set": document])
        guard matched == 1 else {
            let stored = try await self.order(order.id)?.version ?? 0
            throw VersionConflict(stream: "order/\(order.id)", expected: expectedVersion, actual: stored)
        }
    }

    public func order(_ id: OrderID) async throws -> Order? {
        try await client.find(Self.collection, filter: ["_id": id.rawValue], options: ["limit": 1]).first.map(Self.order)
    }

    public func orders(_ ids: [OrderID]) async throws -> [Order] {
        guard !ids.isEmpty else { return [] }
        return try await client.find(Self.collection, filter: ["_id": ["$in": ids.map(\.rawValue)]]).map(Self.order)
    }

    public func orders(of user: UserID, after: OrderID?, limit: Int) async throws -> [Order] {
        var filter: [String: Any] = ["userID": user.rawValue]
        if let after, let cursor = try await order(after) {
            let placed = cursor.placedAt.nanosecondsSinceEpoch
            filter["$or"] = [["placedAt": ["$lt": placed]], ["placedAt": placed, "_id": ["$lt": after.rawValue]]]
        }
        return try await client.find(Self.collection, filter: filter, options: ["sort": ["placedAt": -1, "_id": -1], "limit": limit])
            .map(Self.order)
    }

    /// Drops every order (what `replay` rebuilds).
    public func removeAll() async throws { try await client.drop(Self.collection) }
}
