public import ServiceLifecycle

/// Keeps the Kafka producer for the life of the ServiceGroup and, on graceful shutdown, flushes
/// every message in flight before the process exits. First in the group, so it stops last.
public struct ProducerService: Service {
    let shutdown: @Sendable () -> Void

    public init(producer: KafkaProducer) { shutdown = { producer.shutdown() } }
    public init(publisher: RecoveringKafkaPublisher) { shutdown = { publisher.shutdown() } }

    public func run() async throws {
        try? await gracefulShutdown()
        shutdown()
    }
}
