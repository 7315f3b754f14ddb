import Domain
import Foundation

/// One collection of Codable values, one document each with the value's id as `_id`: what the
/// order, payment and catalogue repositories share. Versioned values are saved with optimistic
/// concurrency on their `version` field.
struct MongoDocuments<Value: Codable & Sendable>: Sendable {
    let client: MongoClient
    let collection: String

    func document(_ value: Value, id: String) throws -> [String: Any] {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as! [String: Any]
        object["_id"] = id
        return object
    }

    func value(_ document: [String: Any]) throws -> Value {
        var object = document
        object.removeValue(forKey: "_id")
        return try JSONDecoder().decode(Value.self, from: JSONSerialization.data(withJSONObject: object))
    }

    /// Inserts a new value (`expectedVersion` 0) or replaces the one stored at `expectedVersion`;
    /// throws ``VersionConflict`` naming `stream` otherwise.
    func save(_ value: Value, id: String, expectedVersion: Int, stream: String) async throws {
        let document = try document(value, id: id)
        if expectedVersion == 0 {
            do {
                try await client.insert(collection, [document])
                return
            } catch let error as MongoError where error.isDuplicateKey {}
        } else if try await client.updateOne(collection, filter: ["_id": id, "version": expectedVersion], update: ["$set": document]) == 1 {
            return
        }
        let stored = try await client.find(collection, filter: ["_id": id], options: ["limit": 1, "projection": ["version": 1]])
        throw VersionConflict(stream: stream, expected: expectedVersion, actual: (stored.first?["version"] as? NSNumber)?.intValue ?? 0)
    }

    /// Inserts or replaces the value stored under `id`.
    func put(_ value: Value, id: String) async throws {
        _ = try await client.updateOne(collection, filter: ["_id": id], update: ["$set": try document(value, id: id)], upsert: true)
    }

    func get(_ id: String) async throws -> Value? {
        try await client.find(collection, filter: ["_id": id], options: ["limit": 1]).first.map(value)
    }

    /// The values among `ids` that exist (one query).
    func get(_ ids: [String]) async throws -> [Value] {
        guard !ids.isEmpty else { return [] }
        return try await find(["_id": ["$in": ids]])
    }

    func find(_ filter: [String: Any], sort: [(String, Int)] = [], options: [String: Any] = [:]) async throws -> [Value] {
        try await client.find(collection, filter: filter, sort: sort, options: options).map(value)
    }
}
