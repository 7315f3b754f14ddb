import Domain
import DomainMemory
import Foundation
@testable import LiveAPI
@testable import LiveKafka
@testable import LiveMongo
import LoadTest
import Logging
import Prometheus
import Testing

/// Kafka → MongoDB: events published by the shop reach the event store and the order read model,
/// redeliveries change nothing, and a message that is not an event, or an event its stream cannot
/// take, goes to the dead-letter topic while the writer goes on.
@Suite(.enabled(if: Backends.kafkaBrokers != nil && Backends.mongoURI != nil)) struct EventConsumerTests {
    @Test func ordersReachMongoThroughKafka() async throws {
        let brokers = try #require(Backends.kafkaBrokers)
        let prefix = "test\(UInt32.random(in: 0...UInt32.max))"
        let producer = try KafkaProducer(.init(brokers: brokers))
        defer { producer.shutdown() }
        // The shop on in-memory adapters, publishing to Kafka.
        let memory = InMemoryShop()
        var ports = memory.shop.ports
        ports.publisher = KafkaEventPublisher(producer: producer, prefix: prefix)
        let shop = Shop(ports: ports)
        try await DemoCatalog.seed(shop, now: await memory.clock.now())
        var placed: [Order] = []
        for i in 0..<5 {
            let outcome = try await shop.placeOrder(PlaceOrderCommand(dealID: "deal-sneakers", userID: UserID("u-\(i)"), quantity: 1, idempotencyKey: "k"))
            if case .placed(let order) = outcome { placed.append(order) }
        }
        _ = try await shop.payOrder(PayOrderCommand(orderID: placed[0].id, userID: placed[0].userID, idempotencyKey: "p"))
        try await producer.send(topic: "\(prefix).orders", key: "junk", value: Array("not an event".utf8))
        // An event out of contract: the paid order paid again (a third event it cannot take).
        let paidAgain = EventEnvelope(
            aggregateID: .order(placed[0].id), sequence: 3, occurredAt: .seconds(9),
            payload: .order(.paid(OrderPaid(orderID: placed[0].id, paymentID: "p-again", at: .seconds(9)))))
        try await ports.publisher.publish([paidAgain])

        let client = try await Backends.mongo()
        let store = try await MongoEventStore(client: client)
        let orders = try await MongoOrderRepository(client: client)
        let consumer = try KafkaConsumer(brokers: brokers, group: "\(prefix)-writers", topics: ["\(prefix).orders", "\(prefix).inventory", "\(prefix).payments", "\(prefix).deals", "\(prefix).products"])
        let payments = MongoPaymentRepository(client: client)
        let registry = PrometheusCollectorRegistry()
        let service = EventConsumerService(
            consumer: consumer, deadLetters: producer, deadLetterTopic: "\(prefix).dead-letter", events: store, orders: orders,
            payments: payments, logger: Logger(label: "test"), metrics: WriterMetrics(registry: registry))
        let expected = await memory.events.count + 1
        var written = 0
        let deadline = Date().addingTimeInterval(40)
        while written < expected, Date() < deadline { written += try await service.processBatch(timeoutMs: 500) }
        #expect(written == expected)
        // Every message it committed is counted on /metrics, the dead-lettered one too, as the
        // writer's watcher (`flashdeal drain`, `calibrate --writer`) reads it.
        var scrape: [UInt8] = []
        registry.emit(into: &scrape)
        #expect(MetricsScrape(text: String(decoding: scrape, as: UTF8.self)).sum("flashdeal_writer_messages_written_total") == Double(expected + 1))
        for order in placed {
            let stored = try #require(try await orders.order(order.id))
            #expect(stored.quantity == 1 && stored.userID == order.userID)
        }
        let paid = try #require(try await orders.order(placed[0].id))
        #expect(paid.status == .paid)
        // The payment reaches MongoDB through its events, as the order does.
        let paymentID = try #require(paid.paymentID)
        let payment = try #require(try await payments.payment(paymentID))
        #expect(payment.status == .completed && payment.orderID == paid.id)
        let log = try await store.readAll(from: 0, limit: 10_000)
        #expect(Set(log.map(\.envelope.eventID)) == Set(await memory.events.readAll(from: 0, limit: 10_000).map(\.envelope.eventID) + [paidAgain.eventID]))

        let dead = try KafkaConsumer(brokers: brokers, group: "\(prefix)-dead", topics: ["\(prefix).dead-letter"])
        var letters: [KafkaConsumer.Message] = []
        let until = Date().addingTimeInterval(30)
        while letters.count < 2, Date() < until { letters += try dead.poll(max: 10, timeoutMs: 500) }
        let texts = letters.map { String(decoding: $0.value, as: UTF8.self) }
        #expect(texts.count == 2, "\(texts)")
        #expect(texts.contains { $0.contains("not an event") })
        #expect(texts.contains { $0.contains("p-again") && $0.contains("cannot take") }, "the out-of-contract event, whole, with the reason")
    }

    /// New orders are rebuilt from the batch; a payment for an order placed in an earlier batch
    /// is rebuilt from the store; a redelivered creation never takes an order back.
    @Test func ordersAreRebuiltFromTheBatchOrTheStore() async throws {
        let brokers = try #require(Backends.kafkaBrokers)
        let prefix = "test\(UInt32.random(in: 0...UInt32.max))"
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let outcome = try await memory.shop.placeOrder(PlaceOrderCommand(dealID: "deal-sneakers", userID: UserID("u-\(prefix)"), quantity: 1, idempotencyKey: "k"))
        guard case .placed(let order) = outcome else { Issue.record("\(outcome)"); return }
        _ = try await memory.shop.payOrder(PayOrderCommand(orderID: order.id, userID: order.userID, idempotencyKey: "p"))
        let stream = await memory.events.read(.order(order.id), from: 1)
        try #require(stream.map { $0.sequence } == [1, 2])

        let client = try await Backends.mongo()
        let store = try await MongoEventStore(client: client)
        let orders = try await MongoOrderRepository(client: client)
        let producer = try KafkaProducer(.init(brokers: brokers))
        defer { producer.shutdown() }
        let service = EventConsumerService(
            consumer: try KafkaConsumer(brokers: brokers, group: "\(prefix)-writers", topics: ["\(prefix).orders"]), deadLetters: producer,
            events: store, orders: orders, logger: Logger(label: "test"))
        func deliver(_ batch: [EventEnvelope]) async throws {
            try await store.append(batch, expected: .any)
            try await service.project(batch)
        }
        try await deliver([stream[0]])
        #expect(try await orders.order(order.id).map { ($0.version, $0.status) } ?? (0, .cancelled) == (1, .reserved))
        try await deliver([stream[1]])
        #expect(try await orders.order(order.id).map { ($0.version, $0.status) } ?? (0, .cancelled) == (2, .paid))
        try await deliver([stream[0]])
        #expect(try await orders.order(order.id).map { ($0.version, $0.status) } ?? (0, .cancelled) == (2, .paid))
        // Both in one batch, the payment first (as a redelivery may hand them over): the same order.
        try await deliver([stream[1], stream[0], stream[1]])
        #expect(try await orders.order(order.id)?.version == 2)
    }
}
