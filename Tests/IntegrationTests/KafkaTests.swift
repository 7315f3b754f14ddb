import Domain
import Foundation
import LiveKafka
import Testing

/// The Kafka adapters against the real broker (tansu in development).
@Suite(.enabled(if: Backends.kafkaBrokers != nil)) struct KafkaTests {
    @Test func theLoadedLibraryIs216() {
        #expect(KafkaProducer.libraryVersion.hasPrefix("2.16"), "linked \(KafkaProducer.libraryVersion)")
    }

    @Test func publishedEventsComeBackWithTheirKeys() async throws {
        let brokers = try #require(Backends.kafkaBrokers)
        let prefix = "test\(UInt32.random(in: 0...UInt32.max))"
        let producer = try KafkaProducer(.init(brokers: brokers))
        defer { producer.shutdown() }
        let publisher = KafkaEventPublisher(producer: producer, prefix: prefix)
        let events: [EventEnvelope] = (1...20).map { i in
            EventEnvelope(
                aggregateID: .inventory(DealID("deal-\(i % 2)")), sequence: i, occurredAt: .seconds(Int64(i)),
                payload: .inventory(.restocked(StockRestocked(dealID: DealID("deal-\(i % 2)"), quantity: i, at: .seconds(Int64(i))))))
        }
        try await publisher.publish(events)

        let consumer = try KafkaConsumer(brokers: brokers, group: "\(prefix)-group", topics: ["\(prefix).inventory"])
        var received: [KafkaConsumer.Message] = []
        let deadline = Date().addingTimeInterval(30)
        while received.count < events.count, Date() < deadline {
            received += try consumer.poll(max: 100, timeoutMs: 500)
        }
        try consumer.commit()
        #expect(received.count == events.count)
        let decoded = try received.map { try JSONDecoder().decode(EventEnvelope.self, from: Data($0.value)) }
        #expect(Set(decoded.map(\.eventID)) == Set(events.map(\.eventID)))
        for message in received {
            let envelope = try JSONDecoder().decode(EventEnvelope.self, from: Data(message.value))
            #expect(message.key == KafkaEventPublisher.key(for: envelope))
        }
        // One deal's events share a partition, in sequence order.
        for deal in ["deal-0", "deal-1"] {
            let mine = received.filter { $0.key == deal }
            #expect(Set(mine.map(\.partition)).count == 1)
            let sequences = try mine.map { try JSONDecoder().decode(EventEnvelope.self, from: Data($0.value)).sequence }
            #expect(sequences == sequences.sorted())
        }
    }

    @Test func aProduceThatCannotBeDeliveredFails() async throws {
        let producer = try KafkaProducer(.init(brokers: "127.0.0.1:1", messageTimeout: .milliseconds(500)))
        defer { producer.shutdown(timeoutMs: 100) }
        await #expect(throws: KafkaError.self) { try await producer.send(topic: "nowhere", key: "k", value: [1]) }
    }
}
