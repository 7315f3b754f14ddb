public import ServiceLifecycle

/// Keeps the Kafka producer for the life of the ServiceGroup and, on graceful shutdown, flushes
/// every message in flight before the process exits. First in the group, so it stops last.
public struct ProducerService: Service {
    let shutdown: @Sendable () async -> Void

    public init(producer: KafkaProducer) { shutdown = { await producer.close() } }
    public init(publisher: RecoveringKafkaPublisher) { shutdown = { await publisher.shutdown() } }

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
