public import ServiceLifecycle

/// Keeps the Kafka producer for the life of the ServiceGroup and, on graceful shutdown, flushes
/// every message in flight before the process exits. First in the group, so it stops last.
public struct ProducerService: Service {
    let producer: KafkaProducer

    public init(producer: KafkaProducer) { self.producer = producer }

    public func run() async throws {
        try? await gracefulShutdown()
        producer.shutdown()
    }
}
