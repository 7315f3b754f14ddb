public import Domain
import Foundation

/// The relay's Kafka publisher: a `KafkaEventPublisher` whose producer is replaced when it cannot
/// recover: a fatal error (an idempotent producer whose id the broker no longer knows, as after a
/// restarted in-memory broker; librdkafka then requires a new instance), a producer fenced or out
/// of sequence (seen on tansu after the broker was frozen for 30 s: every later send failed with
/// "a newer producer … fences the current one", for good), or `replaceAfter` failures in a row of
/// any kind. The failed batch throws, stays in the outbox, and the next attempt goes through the
/// new producer (a new producer id). `make chaos`'s broker-freeze drill is the test.
public final class RecoveringKafkaPublisher: EventPublisher, @unchecked Sendable {
    // Safe: `current` is read and replaced under `lock`.
    private let lock = NSLock()
    private var current: KafkaProducer
    private var failures = 0
    private let configuration: KafkaProducer.Configuration
    private let prefix: String
    private let replaceAfter: Int

    public init(_ configuration: KafkaProducer.Configuration, prefix: String = "flashdeal", replaceAfter: Int = 3) throws {
        current = try KafkaProducer(configuration)
        self.configuration = configuration
        self.prefix = prefix
        self.replaceAfter = replaceAfter
    }

    /// librdkafka's codes for a producer the broker will not take messages from again: fenced
    /// (`PRODUCER_FENCED` 90, local `_FENCED` -144), an epoch or id it no longer knows
    /// (`INVALID_PRODUCER_EPOCH` 47, `UNKNOWN_PRODUCER_ID` 59), a broken sequence
    /// (`OUT_OF_ORDER_SEQUENCE_NUMBER` 45).
    static let unrecoverable: Set<Int32> = [90, -144, 47, 59, 45]

    public var producer: KafkaProducer { lock.withLock { current } }

    public func publish(_ events: [EventEnvelope]) async throws {
        let producer = self.producer
        do {
            try await KafkaEventPublisher(producer: producer, prefix: prefix).publish(events)
            lock.withLock { failures = 0 }
        } catch {
            let inARow = lock.withLock { failures += 1; return failures }
            let code = (error as? KafkaError)?.code
            guard producer.fatalError != nil || code.map(Self.unrecoverable.contains) == true || inARow >= replaceAfter else { throw error }
            let fresh = try KafkaProducer(configuration)
            lock.withLock {
                if current === producer { current = fresh }
                failures = 0
            }
            producer.shutdown(timeoutMs: 0)
            throw error
        }
    }

    /// Flushes what is in flight (graceful shutdown).
    public func shutdown() async { await producer.close() }
}
