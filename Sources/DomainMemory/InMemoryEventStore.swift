public import Domain

/// The event log in an array, with a per-stream index and uniqueness on (stream, sequence).
public actor InMemoryEventStore: EventStore {
    private var log: [EventEnvelope] = []
    private var streams: [StreamID: [Int: Int]] = [:]  // stream -> sequence -> position
    private var ids: Set<String> = []

    public init() {}

    public func append(_ events: [EventEnvelope], expected: ExpectedVersion) throws {
        var pending = streams
        var added: [EventEnvelope] = []
        for event in events {
            var stream = pending[event.aggregateID, default: [:]]
            if let position = stream[event.sequence] {
                let existing = position < log.count ? log[position] : added[position - log.count]
                guard existing.payload == event.payload else {
                    throw VersionConflict(
                        stream: event.aggregateID.description, expected: event.sequence - 1, actual: stream.count)
                }
                continue
            }
            if expected == .sequential, event.sequence != (stream.keys.max() ?? 0) + 1 {
                throw VersionConflict(
                    stream: event.aggregateID.description, expected: event.sequence - 1, actual: stream.keys.max() ?? 0)
            }
            stream[event.sequence] = log.count + added.count
            pending[event.aggregateID] = stream
            added.append(event)
        }
        log += added
        streams = pending
        ids.formUnion(added.map(\.eventID))
    }

    public func read(_ stream: StreamID, from sequence: Int) -> [EventEnvelope] {
        (streams[stream] ?? [:]).filter { $0.key >= sequence }.sorted { $0.key < $1.key }.map { log[$0.value] }
    }

    public func readAll(from position: Int, limit: Int) -> [StoredEvent] {
        guard position < log.count else { return [] }
        return (position..<(position + min(limit, log.count - position))).map { StoredEvent(position: $0, envelope: log[$0]) }
    }

    public func stored(_ eventIDs: [String]) -> Set<String> {
        ids.intersection(eventIDs)
    }

    public var count: Int { log.count }
}

/// Keeps what was published, and hands it to subscribers as it comes.
public actor InMemoryEventPublisher: EventPublisher {
    public private(set) var published: [EventEnvelope] = []
    private var subscribers: [Int: AsyncStream<EventEnvelope>.Continuation] = [:]
    private var nextSubscriber = 0

    public init() {}

    public func publish(_ events: [EventEnvelope]) {
        published += events
        for event in events {
            for continuation in subscribers.values { continuation.yield(event) }
        }
    }

    /// A stream of every event published from now on; ends when the consumer stops iterating.
    public func subscribe() -> AsyncStream<EventEnvelope> {
        let (stream, continuation) = AsyncStream.makeStream(of: EventEnvelope.self, bufferingPolicy: .bufferingNewest(1024))
        let id = nextSubscriber
        nextSubscriber += 1
        subscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(id) } }
        return stream
    }

    private func unsubscribe(_ id: Int) { subscribers[id] = nil }
}
