public import Domain
import Foundation

/// The event store in the `events` collection: one document per event, `_id` the event id
/// (`aggregate#sequence`), a unique index on `{aggregateId: 1, sequence: 1}`, and a global
/// `position` (allocated in blocks from the `counters` collection, unique and increasing, not
/// necessarily dense) for reading the whole log in order. See `docs/data/mongo.md`.
public struct MongoEventStore: EventStore {
    let client: MongoClient
    static let collection = "events"

    public init(client: MongoClient) async throws {
        self.client = client
        _ = try await client.command([
            "createIndexes": Self.collection,
            "indexes": [
                ["key": ["aggregateId": 1, "sequence": 1], "name": "aggregate_sequence", "unique": true],
                ["key": ["position": 1], "name": "position", "unique": true],
            ],
        ])
    }

    public func append(_ events: [EventEnvelope], expected: ExpectedVersion) async throws {
        guard !events.isEmpty else { return }
        let reply = try await client.command([
            "findAndModify": "counters", "query": ["_id": "events"], "update": ["$inc": ["next": events.count]],
            "new": true, "upsert": true,
        ])
        guard let value = reply["value"] as? [String: Any], let next = (value["next"] as? NSNumber)?.intValue else {
            throw MongoError("the events counter did not answer")
        }
        var position = next - events.count
        if expected == .any, try await appendBatch(events, from: position) { return }
        var last: [StreamID: Int] = [:]
        for event in events {
            defer { position += 1 }
            if expected == .sequential {
                let previous: Int
                if let known = last[event.aggregateID] {
                    previous = known
                } else {
                    previous = try await read(event.aggregateID, from: 1).last?.sequence ?? 0
                }
                if event.sequence <= previous {
                    try await checkSame(event)
                    continue
                }
                guard event.sequence == previous + 1 else {
                    throw VersionConflict(stream: event.aggregateID.description, expected: event.sequence - 1, actual: previous)
                }
                last[event.aggregateID] = event.sequence
            }
            var document = try JSONSerialization.jsonObject(with: JSONEncoder().encode(event)) as! [String: Any]
            document["_id"] = event.eventID
            document["position"] = position
            do {
                try await client.insert(Self.collection, [document])
            } catch let error as MongoError where error.isDuplicateKey {
                try await checkSame(event)
            }
        }
    }

    /// The consumer's path: one query for the events already stored (each must be the very same
    /// event), one `insert_many` for the rest. Returns false when a concurrent writer got in between
    /// (a duplicate key): the caller then goes event by event.
    func appendBatch(_ events: [EventEnvelope], from first: Int) async throws -> Bool {
        let stored = try await client.find(Self.collection, filter: ["_id": ["$in": events.map(\.eventID)]])
        var known: [String: EventEnvelope] = [:]
        for document in stored { let e = try Self.envelope(document); known[e.eventID] = e }
        var documents: [[String: Any]] = []
        var seen: Set<String> = []
        for (offset, event) in events.enumerated() {
            if let existing = known[event.eventID] ?? (seen.contains(event.eventID) ? event : nil) {
                guard existing.payload == event.payload else {
                    throw VersionConflict(stream: event.aggregateID.description, expected: event.sequence - 1, actual: event.sequence)
                }
                continue
            }
            seen.insert(event.eventID)
            var document = try JSONSerialization.jsonObject(with: JSONEncoder().encode(event)) as! [String: Any]
            document["_id"] = event.eventID
            document["position"] = first + offset
            documents.append(document)
        }
        guard !documents.isEmpty else { return true }
        do {
            try await client.insert(Self.collection, documents)
            return true
        } catch let error as MongoError where error.isDuplicateKey {
            return false
        }
    }

    /// Whole streams in one query, each in sequence order.
    public func read(_ streams: [StreamID]) async throws -> [StreamID: [EventEnvelope]] {
        guard !streams.isEmpty else { return [:] }
        let documents = try await client.find(
            Self.collection, filter: ["aggregateId": ["$in": streams.map(\.description)]], sort: [("aggregateId", 1), ("sequence", 1)])
        var result: [StreamID: [EventEnvelope]] = [:]
        for document in documents {
            let event = try Self.envelope(document)
            result[event.aggregateID, default: []].append(event)
        }
        return result
    }

    /// By `_id`, only the ids.
    public func stored(_ eventIDs: [String]) async throws -> Set<String> {
        guard !eventIDs.isEmpty else { return [] }
        let documents = try await client.find(Self.collection, filter: ["_id": ["$in": eventIDs]], options: ["projection": ["_id": 1]])
        return Set(documents.compactMap { $0["_id"] as? String })
    }

    /// An event already stored at this sequence must be this very event (a redelivery).
    func checkSame(_ event: EventEnvelope) async throws {
        let stored = try await client.find(Self.collection, filter: ["aggregateId": event.aggregateID.description, "sequence": event.sequence])
        guard let document = stored.first, try Self.envelope(document).payload == event.payload else {
            throw VersionConflict(stream: event.aggregateID.description, expected: event.sequence - 1, actual: event.sequence)
        }
    }

    public func read(_ stream: StreamID, from sequence: Int) async throws -> [EventEnvelope] {
        try await client.find(
            Self.collection, filter: ["aggregateId": stream.description, "sequence": ["$gte": sequence]], sort: [("sequence", 1)]
        ).map(Self.envelope)
    }

    public func readAll(from position: Int, limit: Int) async throws -> [StoredEvent] {
        try await client.find(Self.collection, filter: ["position": ["$gte": position]], sort: [("position", 1)], options: ["limit": min(limit, 1_000_000)])
            .map { StoredEvent(position: ($0["position"] as? NSNumber)?.intValue ?? 0, envelope: try Self.envelope($0)) }
    }

    static func envelope(_ document: [String: Any]) throws -> EventEnvelope {
        var object = document
        object.removeValue(forKey: "_id")
        object.removeValue(forKey: "position")
        return try JSONDecoder().decode(EventEnvelope.self, from: JSONSerialization.data(withJSONObject: object))
    }
}
