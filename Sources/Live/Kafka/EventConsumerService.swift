public import Domain
import Foundation
public import Logging
public import ServiceLifecycle

/// The consumer group that moves events from Kafka into MongoDB: each batch is appended to the
/// event store (idempotent by event id, so redelivery is harmless), the orders it touched are
/// rebuilt from their streams and saved to the order read model, and only then are the offsets
/// committed. A message that is not an event envelope goes to the dead-letter topic with the reason.
public struct EventConsumerService: Service {
    let consumer: KafkaConsumer
    let deadLetters: KafkaProducer
    let deadLetterTopic: String
    let events: any EventStore
    let orders: any OrderRepository
    let logger: Logger
    let batchSize: Int

    public init(
        consumer: KafkaConsumer, deadLetters: KafkaProducer, deadLetterTopic: String = "flashdeal.dead-letter",
        events: any EventStore, orders: any OrderRepository, logger: Logger, batchSize: Int = 500
    ) {
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.deadLetterTopic = deadLetterTopic
        self.events = events
        self.orders = orders
        self.logger = logger
        self.batchSize = batchSize
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
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
        let messages = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try consumer.poll(max: size, timeoutMs: timeoutMs) }) }
        }
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
        try consumer.commit()
        return envelopes.count
    }

    /// Rebuilds each order the batch touched and saves it when it is ahead of the read model
    /// (whatever order the partitions delivered its events in): one query for the stored orders,
    /// one `insert_many` for the new ones. An order whose events in the batch begin at its creation
    /// and leave no gap is rebuilt from the batch alone; only the others (a payment or a
    /// cancellation of an order placed in an earlier batch) are read back from the event store, in
    /// one query. Under a sale almost every order is new, and reading their streams back was the
    /// writer's costliest query (it grows with the store). A batch that holds only the start of a
    /// stream (a redelivery cut short) rebuilds an older version, which the version check skips.
    func project(_ batch: [EventEnvelope]) async throws {
        var inBatch: [OrderID: [(sequence: Int, event: OrderEvent)]] = [:]
        for envelope in batch {
            guard case .order(let id) = envelope.aggregateID, case .order(let event) = envelope.payload else { continue }
            inBatch[id, default: []].append((envelope.sequence, event))
        }
        guard !inBatch.isEmpty else { return }
        let sorted = inBatch.keys.sorted()
        var fromBatch: [OrderID: [(sequence: Int, event: OrderEvent)]] = [:]
        var fromStore: [OrderID] = []
        for id in sorted {
            var seen = Set<Int>()
            let pairs = inBatch[id, default: []].sorted { $0.sequence < $1.sequence }.filter { seen.insert($0.sequence).inserted }
            if Self.isWholeStream(pairs) { fromBatch[id] = pairs } else { fromStore.append(id) }
        }
        let streams = fromStore.isEmpty ? [:] : try await events.read(fromStore.map { StreamID.order($0) })
        var stored: [OrderID: Int] = [:]
        for order in try await orders.orders(sorted) { stored[order.id] = order.version }
        var saves: [(order: Order, expectedVersion: Int)] = []
        for id in sorted {
            let pairs = fromBatch[id] ?? (streams[.order(id)] ?? []).compactMap { e -> (sequence: Int, event: OrderEvent)? in
                if case .order(let event) = e.payload { (e.sequence, event) } else { nil }
            }
            guard Self.isWholeStream(pairs), let order = try? Order(replaying: pairs) else { continue }  // its creation has not arrived yet; a later batch rebuilds it
            let version = stored[id] ?? 0
            if order.version > version { saves.append((order, version)) }
        }
        // A conflict means another writer saved the order meanwhile; its stream rebuilds it next time.
        _ = try await orders.save(saves)
    }

    /// Whether `pairs` run from sequence 1 without a gap.
    static func isWholeStream(_ pairs: [(sequence: Int, event: OrderEvent)]) -> Bool {
        pairs.first?.sequence == 1 && pairs.enumerated().allSatisfy { $0.offset + 1 == $0.element.sequence }
    }

    static func deadLetter(_ message: KafkaConsumer.Message, _ error: any Error) -> [UInt8] {
        let object: [String: Any] = [
            "topic": message.topic, "partition": message.partition, "offset": message.offset, "key": message.key,
            "reason": "\(error)", "value": String(decoding: message.value, as: UTF8.self),
        ]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}
