import Live
import LiveRuntime
import Logging
import Testing

/// The composition picks each mode's adapters whole: the embedded mode's are the in-memory ones,
/// the backends mode's are Redis's, Kafka's and MongoDB's, with no in-memory port left behind.
@Suite
struct CompositionTests {
    /// The simulated payment provider with its latency: the one provider both modes use.
    static let provider = "Live.ProviderLatency"

    @Test
    func theEmbeddedModeUsesTheInMemoryAdapters() async throws {
        let composition = try await ShopServer.compose(ShopServer.Configuration(), logger: Logger(label: "test"))
        #expect(composition.mode == .embedded)
        #expect(composition.adapters == [
            "ledger": "DomainMemory.InMemoryStockLedger", "orders": "DomainMemory.InMemoryOrderRepository",
            "payments": "DomainMemory.InMemoryPaymentRepository", "catalog": "DomainMemory.InMemoryDealCatalog",
            "events": "DomainMemory.InMemoryEventStore", "publisher": "LiveRuntime.EventHub",
            "idempotency": "DomainMemory.InMemoryIdempotencyStore", "gateway": Self.provider, "clock": "LiveRuntime.WallClock",
            "identifiers": "LiveRuntime.RandomIdentifiers", "checkoutSteps": "Domain.SequentialCheckoutSteps",
            "rateLimiter": "DomainMemory.InMemoryRateLimiter", "waitingRooms": "DomainMemory.InMemoryWaitingRoomStore",
        ])
        #expect(composition.services.isEmpty && composition.health.isEmpty, "nothing to run or check beside the HTTP server")
    }

    @Test(.enabled(if: Backends.allThere))
    func theBackendsModeLeavesNoInMemoryPort() async throws {
        let composition = try await ShopServer.compose(try Backends.liveConfiguration(), logger: Logger(label: "test"))
        #expect(composition.mode == .backends)
        #expect(composition.adapters == [
            "ledger": "LiveRedis.RedisStockLedger", "orders": "LiveAPI.ReadAheadOrders<LiveRedis.RedisOrderRepository>", "payments": "LiveRedis.RedisPaymentRepository",
            "catalog": "LiveRedis.CachedDealCatalog", "events": "LiveRedis.RedisOutbox", "publisher": "LiveRedis.RedisBroadcast",
            "idempotency": "LiveRedis.RedisIdempotencyStore", "gateway": Self.provider, "clock": "LiveRuntime.WallClock",
            "identifiers": "LiveRuntime.RandomIdentifiers", "checkoutSteps": "LiveRedis.RedisCheckoutSteps",
            "rateLimiter": "LiveRedis.RedisRateLimiter", "waitingRooms": "LiveRedis.RedisWaitingRoomStore",
        ])
        let inMemory = composition.adapters.filter { $0.value.hasPrefix("DomainMemory.") }
        #expect(inMemory.isEmpty, "ports left in memory: \(inMemory)")
        #expect(Set(composition.health.keys) == ["redis", "mongo", "kafka", "consumer"])
    }

    @Test
    func oneBackendAloneIsRefusedNamingTheOthers() async throws {
        var configuration = ShopServer.Configuration()
        configuration.redis.url = "redis://127.0.0.1:1"
        #expect(configuration.mode == .backends)
        let error = await #expect(throws: StartupError.self) { try await ShopServer.compose(configuration, logger: Logger(label: "test")) }
        #expect(error?.description.contains("missing kafka.brokers, mongo.uri") == true, "\(String(describing: error))")
    }
}
