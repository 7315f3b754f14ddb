public import Domain
import Foundation
public import Logging
public import ServiceLifecycle

/// The consumer group that moves events from Kafka into MongoDB: each batch is appended to the
/// event store (idempotent by event id, so redelivery is harmless), the orders it touched are
/// rebuilt from their streams and saved to the order read model, and only then are the offsets
/// committed. A message that is not an event envelope goes to the dead-letter topic with the reason.
public struct EventConsumerService: Service {
    /// The consumer in use: replaced by a fresh one when it stalls (see `checkProgress`).
    let slot: ConsumerSlot
    var consumer: KafkaConsumer { slot.current }
    let deadLetters: KafkaProducer
    let deadLetterTopic: String
    let events: any EventStore
    let projector: OrderProjector
    let payments: Projector<Payment>?
    let logger: Logger
    let batchSize: Int
    let metrics: WriterMetrics?
    /// What readiness is decided from: when this writer last wrote a batch.
    let watch: WriterWatch

    public init(
        consumer: KafkaConsumer, remake: (@Sendable () throws -> KafkaConsumer)? = nil, deadLetters: KafkaProducer,
        deadLetterTopic: String = "flashdeal.dead-letter",
        events: any EventStore, orders: any OrderRepository, payments: (any PaymentRepository)? = nil, logger: Logger, batchSize: Int = 500,
        progress: WriterProgress = WriterProgress(), metrics: WriterMetrics? = nil
    ) {
        self.metrics = metrics
        watch = WriterWatch(progress)
        slot = ConsumerSlot(consumer, remake: remake)
        self.deadLetters = deadLetters
        self.deadLetterTopic = deadLetterTopic
        self.events = events
        projector = OrderProjector(events: events, readModel: .orders(orders))
        self.payments = payments.map { Projector(events: events, readModel: .payments($0)) }
        self.logger = logger
        self.batchSize = batchSize
    }

    public func run() async throws {
        var lastCheck = ContinuousClock.now - .seconds(2)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if ContinuousClock.now - lastCheck >= .seconds(2) {
                lastCheck = .now
                await checkProgress()
            }
            do {
                _ = try await processBatch(timeoutMs: 200)
            } catch {
                logger.error("event consumer batch failed; it will be read again", metadata: ["flashdeal.error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Reads one batch, writes it, commits; returns how many events were written.
    public func processBatch(timeoutMs: Int32) async throws -> Int {
        let consumer = self.consumer, size = batchSize
        let messages = try await Self.offLoop { try consumer.poll(max: size, timeoutMs: timeoutMs) }
        guard !messages.isEmpty else { return 0 }
        var envelopes: [EventEnvelope] = []
        for message in messages {
            do {
                envelopes.append(try JSONDecoder().decode(EventEnvelope.self, from: Data(message.value)))
            } catch {
                logger.warning("dead letter", metadata: ["flashdeal.kafka.topic": "\(message.topic)", "flashdeal.kafka.offset": "\(message.offset)"])
                try await deadLetters.send(topic: deadLetterTopic, key: message.key, value: Self.deadLetter(message, error))
            }
        }
        try await events.append(envelopes, expected: .any)
        try await project(envelopes)
        try await Self.offLoop { try consumer.commit() }
        watch.progressed(at: .now)
        return envelopes.count
    }

    /// Rebuilds each order and payment the batch touched (``Projector``); one whose stream does
    /// not replay is logged and left as it is (its events are in the event store for an operator).
    func project(_ batch: [EventEnvelope]) async throws {
        var broken = try await projector.project(batch).map { ("order/\($0.key)", $0.value) }
        if let payments { broken += try await payments.project(batch).map { ("payment/\($0.key)", $0.value) } }
        for (stream, error) in broken.sorted(by: { $0.0 < $1.0 }) {
            logger.error("stream does not replay; its read model is left as it was", metadata: ["flashdeal.stream": "\(stream)", "flashdeal.error": "\(error)"])
        }
    }

    /// A blocking librdkafka call (a poll that waits, a synchronous commit) off the caller's
    /// thread, which may be an event loop.
    static func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    static func deadLetter(_ message: KafkaConsumer.Message, _ error: any Error) -> [UInt8] {
        let object: [String: Any] = [
            "topic": message.topic, "partition": message.partition, "offset": message.offset, "key": message.key,
            "reason": "\(error)", "value": String(decoding: message.value, as: UTF8.self),
        ]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}
