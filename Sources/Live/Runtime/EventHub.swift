public import Domain
import Foundation

/// This replica's subscribers and the events they wait for. In the embedded mode the shop
/// publishes to the hub directly; on the live server the shop publishes to Redis
/// (`RedisBroadcast`) and every replica's `RedisBroadcastListener` feeds its own hub, so a
/// subscriber hears of changes made on any replica.
public actor EventHub: EventPublisher {
    /// What a subscription needs to hear of an event: the stream that changed and the deal it
    /// concerns. Subscriptions answer with the current state, so the event itself never travels.
    public struct Change: Sendable, Hashable {
        public var stream: StreamID
        public var deal: DealID?

        public init(stream: StreamID, deal: DealID?) {
            self.stream = stream
            self.deal = deal
        }

        public init(_ event: EventEnvelope) {
            self.init(stream: event.aggregateID, deal: event.dealID)
        }

        /// One line of the broadcast: the stream, then the deal when there is one.
        public var line: String { deal.map { "\(stream) \($0)" } ?? "\(stream)" }

        public init(line: Substring) throws(ValidationError) {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let first = parts.first else { throw ValidationError(field: "change", reason: "is empty") }
            let stream = try StreamID(parsing: String(first))
            if parts.count > 1 {
                self.init(stream: stream, deal: try DealID(validating: String(parts[1]), field: "deal"))
            } else {
                self.init(stream: stream, deal: nil)
            }
        }
    }

    public typealias Filter = @Sendable (Change) -> Bool

    private var subscribers: [UUID: (filter: Filter, continuation: AsyncStream<Change>.Continuation)] = [:]

    public init() {}

    public var subscriberCount: Int { subscribers.count }

    public func publish(_ events: [EventEnvelope]) {
        notify(events.map(Change.init))
    }

    public func notify(_ changes: [Change]) {
        for change in changes {
            for (_, subscriber) in subscribers where subscriber.filter(change) { subscriber.continuation.yield(change) }
        }
    }

    /// The changes `filter` accepts from now on, until the stream's consumer stops. A slow consumer
    /// keeps only the newest `buffer` changes (a subscription shows the latest state).
    public func subscribe(buffer: Int = 64, _ filter: @escaping Filter) -> AsyncStream<Change> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<Change>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        subscribers[id] = (filter, continuation)
        continuation.onTermination = { [weak self] _ in Task { await self?.remove(id) } }
        return stream
    }

    private func remove(_ id: UUID) { subscribers.removeValue(forKey: id) }
}

extension EventEnvelope {
    /// The deal an event concerns, if any: its deal or inventory stream, or the deal an order was
    /// placed on.
    public var dealID: DealID? {
        switch aggregateID {
        case .deal(let id), .inventory(let id): id
        default:
            if case .order(.placed(let placed)) = payload { placed.dealID } else { nil }
        }
    }
}
