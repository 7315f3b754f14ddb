/// Where the use cases write the events they decide: append-only and durable once `append`
/// returns. An ``EventStore`` is one; the live server's request path writes to a Redis outbox
/// instead, which a relay carries to Kafka and a consumer into the MongoDB event store.
public protocol EventLog: Sendable {
    /// Appends events. For each stream, `expected` says what the stream's last sequence must be.
    /// An event already stored with the same id and the same content is skipped (appending is
    /// idempotent); a different event at a taken sequence throws ``VersionConflict``.
    func append(_ events: [EventEnvelope], expected: ExpectedVersion) async throws
}

/// The append-only log of every domain event, the source of truth replay rebuilds read models
/// from. Adapters: in-memory, MongoDB (unique index on aggregate id and sequence).
public protocol EventStore: EventLog {
    /// One stream's events in sequence order, from `sequence` (inclusive).
    func read(_ stream: StreamID, from sequence: Int) async throws -> [EventEnvelope]
    /// All events in the order they were stored, from global `position` (0-based), at most `limit`.
    func readAll(from position: Int, limit: Int) async throws -> [StoredEvent]
    /// Several whole streams, each in sequence order. Adapters may read them in one round trip.
    func read(_ streams: [StreamID]) async throws -> [StreamID: [EventEnvelope]]
    /// Which of `eventIDs` are stored (one round trip where the adapter can).
    func stored(_ eventIDs: [String]) async throws -> Set<String>
}

extension EventStore {
    public func read(_ streams: [StreamID]) async throws -> [StreamID: [EventEnvelope]] {
        var result: [StreamID: [EventEnvelope]] = [:]
        for stream in streams { result[stream] = try await read(stream, from: 1) }
        return result
    }
}

/// What the stream's last sequence must be for an append to go through.
public enum ExpectedVersion: Hashable, Sendable {
    /// No check beyond uniqueness: for events whose sequence the stock ledger already assigned.
    case any
    /// Each appended stream's first new event must follow its stored last sequence.
    case sequential
}

/// An event with its position in the global log.
public struct StoredEvent: Hashable, Sendable {
    public var position: Int
    public var envelope: EventEnvelope
    public init(position: Int, envelope: EventEnvelope) {
        self.position = position
        self.envelope = envelope
    }
}

/// Delivers recorded events to whoever listens (Kafka topics, subscriptions).
public protocol EventPublisher: Sendable {
    func publish(_ events: [EventEnvelope]) async throws
}
