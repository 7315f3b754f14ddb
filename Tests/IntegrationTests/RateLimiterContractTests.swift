import Domain
import DomainMemory
import LiveRedis
import Testing

/// One contract for every rate limiter: the in-memory one and Redis's script decide alike.
@Suite struct RateLimiterContractTests {
    enum Adapter: String, CaseIterable { case memory, redis }

    static func limiter(_ adapter: Adapter) async throws -> any RateLimiter {
        switch adapter {
        case .memory: InMemoryRateLimiter()
        case .redis: try await RedisRateLimiter(pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix())
        }
    }

    static let start = Instant.seconds(1_800_000_000)

    @Test(arguments: Adapter.allCases)
    func aBucketGivesItsBurstThenRefillsAtItsRate(_ adapter: Adapter) async throws {
        guard adapter == .memory || Backends.redisURL != nil else { return }
        let limiter = try await Self.limiter(adapter)
        let buyer = [RateLimitedKey("buyer:u-1", .init(rate: 2, burst: 3))]
        for i in 0..<3 { #expect(try await limiter.take(buyer, at: Self.start) == nil, "token \(i) of the burst") }
        let wait = try #require(try await limiter.take(buyer, at: Self.start), "the fourth is refused")
        #expect(abs(Double(wait.components.attoseconds) / 1e18 + Double(wait.components.seconds) - 0.5) < 0.001, "a token every half second: \(wait)")
        #expect(try await limiter.take(buyer, at: Self.start + .milliseconds(400)) != nil)
        #expect(try await limiter.take(buyer, at: Self.start + .milliseconds(500)) == nil, "refilled one")
        #expect(try await limiter.take(buyer, at: Self.start + .milliseconds(500)) != nil)
        #expect(try await limiter.take(buyer, at: Self.start + .seconds(60)) == nil, "full again after a while")
        #expect(try await limiter.take([RateLimitedKey("buyer:u-2", .init(rate: 2, burst: 3))], at: Self.start) == nil, "buckets are per key")
        #expect(try await limiter.take([RateLimitedKey("off", .init(rate: 0, burst: 0))], at: Self.start) == nil, "rate 0 is no limit")
    }

    @Test(arguments: Adapter.allCases)
    func aRequestTakesFromAllItsBucketsOrNone(_ adapter: Adapter) async throws {
        guard adapter == .memory || Backends.redisURL != nil else { return }
        let limiter = try await Self.limiter(adapter)
        let buyer = RateLimitedKey("buyer:u-1", .init(rate: 1, burst: 1)), address = RateLimitedKey("address:10.0.0.7", .init(rate: 1, burst: 3))
        #expect(try await limiter.take([buyer, address], at: Self.start) == nil)
        #expect(try await limiter.take([buyer, address], at: Self.start) != nil, "the buyer's bucket is empty")
        // The address gave nothing for the refused request: two tokens are left.
        #expect(try await limiter.take([address], at: Self.start) == nil)
        #expect(try await limiter.take([address], at: Self.start) == nil)
        #expect(try await limiter.take([address], at: Self.start) != nil)
    }
}
