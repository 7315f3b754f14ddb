import NIOPosix

/// The one home of the live server's blocking C calls: every libmongoc operation, and librdkafka's
/// polls, commits, metadata requests and flushes, run on a bounded pool of threads of their own,
/// never on an event loop (which `serve` makes Swift's global executor, so a blocked loop stalls
/// requests that need only Redis) and never on the cooperative pool. One pool per backend, so a
/// MongoDB that hangs holds at most its own threads (further MongoDB calls wait their turn) while
/// Kafka's calls and everything else go on. The only other threads are the ones a component owns
/// for a loop of its own (the producer's delivery poller, the Redis broadcast listener).
///
/// The pools live as long as the process (static, started on first use, never shut down: a
/// process-wide resource, like NIO's own singleton event loops).
public enum BlockingCalls {
    /// MongoDB: as many threads as operations may wait on it at once.
    static let mongo = started(threads: 16)
    /// Kafka: the consumer's polls and commits, metadata and flushes.
    static let kafka = started(threads: 4)

    static func started(threads: Int) -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }

    /// Runs a blocking MongoDB call.
    public static func mongo<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await mongo.runIfActive(body)
    }

    /// Runs a blocking Kafka call.
    public static func kafka<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await kafka.runIfActive(body)
    }
}
