public import Domain
import Foundation
public import Logging
public import ServiceLifecycle
import LiveRuntime
import Tracing

/// The consumer group that moves events from Kafka into MongoDB: each batch is appended to the
/// event store (idempotent by event id, so redelivery is harmless), the orders it touched are
/// rebuilt from their streams and saved to the order read model, and only then are the offsets
/// committed. A message that is not an event envelope, or whose event its stream cannot take (out of
/// contract), goes to the dead-letter topic whole with the reason, and the writer goes on.
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
    /// How long one poll waits for messages.
    let pollTimeout: Duration
    let metrics: WriterMetrics?
    /// What readiness is decided from: when this writer last wrote a batch.
    let watch: WriterWatch

    public init(
        consumer: KafkaConsumer, remake: (@Sendable () throws -> KafkaConsumer)? = nil, deadLetters: KafkaProducer,
        deadLetterTopic: String = "flashdeal.dead-letter",
        events: any EventStore, orders: any OrderRepository, payments: (any PaymentRepository)? = nil, logger: Logger, batchSize: Int = 500,
        pollTimeout: Duration = .milliseconds(200), progress: WriterProgress = WriterProgress(), metrics: WriterMetrics? = nil
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
        self.pollTimeout = pollTimeout
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            // The lag on /metrics from a task of its own: a writer stuck in a batch (MongoDB hung)
            // still shows its lag growing, which is when the lag alert matters.
            if let metrics {
                group.addTask {
                    while !Task.isCancelled {
                        let consumer = self.consumer
                        metrics.lag((try? await BlockingCalls.kafka { consumer.assignment(timeoutMs: 1000) }) ?? [])
                        try? await Task.sleep(for: .seconds(2))
                    }
                }
            }
            await consume()
            group.cancelAll()
        }
    }

    /// Reads, writes and commits batches until shutdown, renewing the verdict every couple of seconds.
    func consume() async {
        var lastCheck = ContinuousClock.now - .seconds(2)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if ContinuousClock.now - lastCheck >= .seconds(2) {
                lastCheck = .now
                await checkProgress()
            }
            do {
                _ = try await processBatch(timeoutMs: Int32(Kafka.milliseconds(pollTimeout)) ?? 200)
            } catch {
                logger.error("event consumer batch failed; it will be read again", metadata: ["flashdeal.error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Reads one batch, writes it, commits; returns how many events were written.
    public func processBatch(timeoutMs: Int32) async throws -> Int {
        let consumer = self.consumer, size = batchSize
        let messages = try await BlockingCalls.kafka { try consumer.poll(max: size, timeoutMs: timeoutMs) }
        guard !messages.isEmpty else { return 0 }
        // A traced message's `process` span (a child of the relay's `send`), ended once its batch
        // is committed; the batch's MongoDB writes are children of the first.
        var spans: [any Span] = []
        defer { for span in spans { span.end() } }
        var decoded: [(message: KafkaConsumer.Message, envelope: EventEnvelope)] = []
        for message in messages {
            do {
                var envelope = try CompactJSONDecoder().decode(EventEnvelope.self, from: message.value)
                envelope.headers = message.headers
                if let span = Self.processSpan(message, envelope, batch: messages.count) { spans.append(span) }
                decoded.append((message, envelope))
            } catch {
                try await deadLetter(message, error)
            }
        }
        let envelopes = decoded.map(\.envelope)
        let writing = ContinuousClock.now
        try await InstrumentationContext.$current.withValue(spans.first?.context ?? .current) {
            try await events.append(envelopes, expected: .any)
            // A stream that does not replay (an event out of contract): its messages of this batch go to
            // the dead-letter topic whole, with the reason; its read model is left as it was.
            let broken = try await project(envelopes)
            for (message, envelope) in decoded {
                if let failure = broken[envelope.aggregateID], envelope.sequence >= failure.from { try await deadLetter(message, failure.error) }
            }
        }
        metrics?.batch(messages.count, wrote: .now - writing)
        try await BlockingCalls.kafka { try consumer.commit() }
        watch.progressed(at: .now)
        metrics?.wrote(messages.count)
        return envelopes.count
    }

    /// The consumer span for a message whose headers carry a trace context; nil for one without.
    static func processSpan(_ message: KafkaConsumer.Message, _ envelope: EventEnvelope, batch: Int) -> (any Span)? {
        guard !message.headers.isEmpty else { return nil }
        let span = startSpan("process \(message.topic)", context: TraceContext.context(message.headers), ofKind: .consumer)
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.operation.type"] = "process"
        span.attributes["messaging.operation.name"] = "process"
        span.attributes["messaging.destination.name"] = message.topic
        span.attributes["messaging.destination.partition.id"] = String(message.partition)
        span.attributes["messaging.kafka.offset"] = Int(message.offset)
        span.attributes["messaging.kafka.message.key"] = message.key
        span.attributes["messaging.batch.message_count"] = batch
        span.attributes["flashdeal.event.type"] = envelope.type
        span.attributes["flashdeal.event.id"] = envelope.eventID
        if case .order(let id) = envelope.aggregateID { span.attributes["flashdeal.order.id"] = id.rawValue }
        return span
    }

    /// Rebuilds each order and payment the batch touched (``Projector``); one whose stream does
    /// not replay is saved as far as it does, and logged (its events are in the event store for an
    /// operator). Returns those streams, with why and from which sequence.
    @discardableResult
    func project(_ batch: [EventEnvelope]) async throws -> [StreamID: (error: ReplayError, from: Int)] {
        var broken: [StreamID: (error: ReplayError, from: Int)] = [:]
        for (id, failure) in try await projector.project(batch) { broken[.order(id)] = (failure.error, failure.from) }
        if let payments { for (id, failure) in try await payments.project(batch) { broken[.payment(id)] = (failure.error, failure.from) } }
        for (stream, failure) in broken.sorted(by: { $0.key < $1.key }) {
            logger.error("stream does not replay from this sequence; its read model stops before it", metadata: [
                "flashdeal.stream": "\(stream)", "flashdeal.sequence": "\(failure.from)", "flashdeal.error": "\(failure.error)",
            ])
        }
        return broken
    }

    /// Sends a message the writer cannot use to the dead-letter topic whole, with the reason.
    func deadLetter(_ message: KafkaConsumer.Message, _ error: any Error) async throws {
        logger.warning("dead letter", metadata: [
            "flashdeal.kafka.topic": "\(message.topic)", "flashdeal.kafka.offset": "\(message.offset)", "flashdeal.error": "\(error)",
        ])
        try await deadLetters.send(topic: deadLetterTopic, key: message.key, value: Self.deadLetter(message, error))
    }

    static func deadLetter(_ message: KafkaConsumer.Message, _ error: any Error) -> [UInt8] {
        let object: [String: Any] = [
            "topic": message.topic, "partition": message.partition, "offset": message.offset, "key": message.key,
            "reason": "\(error)", "value": String(decoding: message.value, as: UTF8.self),
        ]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}
