import NIOPosix
import Synchronization

/// The one home of the live server's blocking C calls: every libmongoc operation, and librdkafka's
/// polls, commits, metadata requests and flushes, run on a bounded pool of threads of their own,
/// never on an event loop (which `serve` makes Swift's global executor, so a blocked loop stalls
/// requests that need only Redis) and never on the cooperative pool. One pool per backend, so a
/// MongoDB that hangs holds at most its own threads (further MongoDB calls wait their turn) while
/// Kafka's calls and everything else go on. The only other threads are the ones a component owns
/// for a loop of its own (the producer's delivery poller, the Redis broadcast listener).
///
/// The pools live as long as the process (static, started on first use, never shut down: a
/// process-wide resource, like NIO's own singleton event loops). Their sizes are set once, before
/// first use (`size(mongo:kafka:)`, from `pools.*`).
public enum BlockingCalls {
    /// The sizes the pools start with: MongoDB operations that may wait at once (16), and Kafka's
    /// polls, commits, metadata requests and flushes (4).
    private static let sizes = Mutex((mongo: 16, kafka: 4))
    /// MongoDB: as many threads as operations may wait on it at once.
    static let mongo = started(threads: sizes.withLock { $0.mongo })
    /// Kafka: the consumer's polls and commits, metadata and flushes.
    static let kafka = started(threads: sizes.withLock { $0.kafka })

    /// Sets the pools' sizes; a pool already started keeps its own (the first composition of the
    /// process decides). Returns whether both sizes were still open.
    @discardableResult
    public static func size(mongo: Int, kafka: Int) -> Bool {
        sizes.withLock { sizes in
            let open = !anyStarted.withLock { $0 }
            if open { sizes = (max(1, mongo), max(1, kafka)) }
            return open
        }
    }

    /// Whether either pool has started.
    private static let anyStarted = Mutex(false)

    static func started(threads: Int) -> NIOThreadPool {
        anyStarted.withLock { $0 = true }
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
