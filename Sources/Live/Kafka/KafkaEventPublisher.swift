public import Domain
import Foundation
import LiveRuntime

/// Publishes domain events to Kafka: one topic per aggregate kind, the versioned JSON envelope as
/// the value, and the deal id as the key where the event names its deal (so one deal's events
/// keep their order on one partition); other events are keyed by their aggregate id.
/// See `docs/data/kafka.md`.
public struct KafkaEventPublisher: EventPublisher {
    let producer: KafkaProducer
    let prefix: String

    public init(producer: KafkaProducer, prefix: String = "flashdeal") {
        self.producer = producer
        self.prefix = prefix
    }

    public func topic(for envelope: EventEnvelope) -> String {
        switch envelope.aggregateID {
        case .order: "\(prefix).orders"
        case .payment: "\(prefix).payments"
        case .inventory: "\(prefix).inventory"
        case .deal: "\(prefix).deals"
        case .product: "\(prefix).products"
        }
    }

    public static func key(for envelope: EventEnvelope) -> String {
        switch envelope.payload {
        case .order(.placed(let e)): e.dealID.rawValue
        case .inventory(.created(let e)): e.dealID.rawValue
        case .inventory(.reserved(let e)): e.dealID.rawValue
        case .inventory(.confirmed(let e)): e.dealID.rawValue
        case .inventory(.released(let e)): e.dealID.rawValue
        case .inventory(.expired(let e)): e.dealID.rawValue
        case .inventory(.returned(let e)): e.dealID.rawValue
        case .inventory(.restocked(let e)): e.dealID.rawValue
        case .deal(.scheduled(let e)): e.terms.id.rawValue
        default:
            if case .deal(let id) = envelope.aggregateID { id.rawValue } else { envelope.aggregateID.description }
        }
    }

    /// Sends every event, in the order given (one deal's events reach its partition in that
    /// order), its ``EventEnvelope/headers`` as the message's, and waits until the broker
    /// acknowledged all of them.
    public func publish(_ events: [EventEnvelope]) async throws {
        let encoder = CompactJSONEncoder(sortedKeys: true)
        try await producer.send(try events.map { event in
            KafkaProducer.Message(topic: topic(for: event), key: Self.key(for: event), value: try encoder.bytes(event), headers: event.headers)
        })
    }
}
