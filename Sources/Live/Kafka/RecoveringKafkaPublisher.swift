public import Domain
import Foundation

/// The relay's Kafka publisher: a `KafkaEventPublisher` whose producer is replaced when it hits a
/// fatal error. An idempotent producer fails fatally when the broker no longer knows its producer
/// id (a cluster that lost its state, as a restarted in-memory broker does); librdkafka then
/// requires a new instance. The failed batch throws, stays in the outbox, and the next attempt
/// goes through the new producer.
public final class RecoveringKafkaPublisher: EventPublisher, @unchecked Sendable {
    // Safe: `current` is read and replaced under `lock`.
    private let lock = NSLock()
    private var current: KafkaProducer
    private let configuration: KafkaProducer.Configuration
    private let prefix: String

    public init(_ configuration: KafkaProducer.Configuration, prefix: String = "flashdeal") throws {
        current = try KafkaProducer(configuration)
        self.configuration = configuration
        self.prefix = prefix
    }

    public var producer: KafkaProducer { lock.withLock { current } }

    public func publish(_ events: [EventEnvelope]) async throws {
        let producer = self.producer
        do {
            try await KafkaEventPublisher(producer: producer, prefix: prefix).publish(events)
        } catch {
            guard producer.fatalError != nil else { throw error }
            let fresh = try KafkaProducer(configuration)
            lock.withLock { if current === producer { current = fresh } }
            producer.shutdown(timeoutMs: 0)
            throw error
        }
    }

    /// Flushes what is in flight (graceful shutdown).
    public func shutdown() { producer.shutdown() }
}
