public import Domain
import Foundation

/// This replica's subscribers and the events they wait for. In the embedded mode the shop
/// publishes to the hub directly; on the live server the shop publishes to Redis
/// (`RedisBroadcast`) and every replica's `RedisBroadcastListener` feeds its own hub, so a
/// subscriber hears of changes made on any replica.
public actor EventHub: EventPublisher {
    public typealias Filter = @Sendable (EventEnvelope) -> Bool

    private var subscribers: [UUID: (filter: Filter, continuation: AsyncStream<EventEnvelope>.Continuation)] = [:]

    public init() {}

    public var subscriberCount: Int { subscribers.count }

    public func publish(_ events: [EventEnvelope]) {
        for event in events {
            for (_, subscriber) in subscribers where subscriber.filter(event) { subscriber.continuation.yield(event) }
        }
    }

    /// The events `filter` accepts from now on, until the stream's consumer stops. A slow consumer
    /// keeps only the newest `buffer` events (a subscription shows the latest state).
    public func subscribe(buffer: Int = 64, _ filter: @escaping Filter) -> AsyncStream<EventEnvelope> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<EventEnvelope>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
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
