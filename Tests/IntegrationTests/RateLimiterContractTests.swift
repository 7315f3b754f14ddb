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
        // A token every 32 s (a rate exact in binary): Redis expires a bucket by its own clock once
        // it would be full again (here after 97 s), so a test on the injected clock must not
        // outlast that in real time (with a token every half second, a loaded CI box once took
        // over 2.5 s between two takes, and the bucket came back full).
        let buyer = [RateLimitedKey("buyer:u-1", .init(rate: 0.03125, burst: 3))]
        for i in 0..<3 { #expect(try await limiter.take(buyer, at: Self.start) == nil, "token \(i) of the burst") }
        let refused = try #require(try await limiter.take(buyer, at: Self.start), "the fourth is refused")
        let seconds = Double(refused.retryAfter.components.attoseconds) / 1e18 + Double(refused.retryAfter.components.seconds)
        #expect(refused.index == 0 && abs(seconds - 32) < 0.001, "a token every 32 s: \(refused)")
        #expect(try await limiter.take(buyer, at: Self.start + .seconds(30)) != nil)
        #expect(try await limiter.take(buyer, at: Self.start + .seconds(32)) == nil, "refilled one")
        #expect(try await limiter.take(buyer, at: Self.start + .seconds(32)) != nil)
        #expect(try await limiter.take(buyer, at: Self.start + .seconds(6000)) == nil, "full again after a while")
        #expect(try await limiter.take([RateLimitedKey("buyer:u-2", .init(rate: 0.03125, burst: 3))], at: Self.start) == nil, "buckets are per key")
        #expect(try await limiter.take([RateLimitedKey("off", .init(rate: 0, burst: 0))], at: Self.start) == nil, "rate 0 is no limit")
    }

    @Test(arguments: Adapter.allCases)
    func aRequestTakesFromItsBucketsInOrderUntilOneIsEmpty(_ adapter: Adapter) async throws {
        guard adapter == .memory || Backends.redisURL != nil else { return }
        let limiter = try await Self.limiter(adapter)
        let address = RateLimitedKey("address:10.0.0.7", .init(rate: 1, burst: 3)), buyer = RateLimitedKey("buyer:u-1", .init(rate: 1, burst: 1))
        let off = RateLimitedKey("off", .init(rate: 0, burst: 0))
        #expect(try await limiter.take([address, off, buyer], at: Self.start) == nil)
        let refused = try await limiter.take([address, off, buyer], at: Self.start)
        #expect(refused?.index == 2 && refused?.retryAfter == .seconds(1), "the buyer's bucket is empty: \(String(describing: refused))")
        // The address gave its token before the buyer's refused: one is left.
        #expect(try await limiter.take([address], at: Self.start) == nil)
        #expect(try await limiter.take([address, buyer], at: Self.start)?.index == 0, "the address is empty, and the buyer is not asked")
        #expect(try await limiter.take([buyer], at: Self.start + .seconds(1)) == nil, "the buyer's bucket refills at its rate")
    }
}
