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

    /// Saves a batch: the new values (expected version 0) in one `insert_many`, changed ones one by
    /// one, each a version check; returns the ids that lost a version race.
    func save(_ batch: [(value: Value, expectedVersion: Int)], id: (Value) -> String) async throws -> [String] {
        let fresh = batch.filter { $0.expectedVersion == 0 }.map(\.value)
        var rest = batch.filter { $0.expectedVersion != 0 }
        if !fresh.isEmpty {
            do {
                try await client.insert(collection, try fresh.map { try document($0, id: id($0)) })
            } catch let error as MongoError where error.isDuplicateKey {
                // Someone else inserted one of them meanwhile: insert_many is ordered, so redo these one by one.
                rest += fresh.map { (value: $0, expectedVersion: 0) }
            }
        }
        var conflicts: [String] = []
        for (value, expected) in rest {
            do { try await save(value, id: id(value), expectedVersion: expected, stream: "\(collection)/\(id(value))") } catch is VersionConflict {
                conflicts.append(id(value))
            }
        }
        return conflicts
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
