/// A token bucket: `burst` tokens at most, refilled at `rate` a second; a request takes one, and is
/// refused while none is left. The arithmetic every rate limiter adapter carries out (the Redis
/// adapter in Lua, atomically), so the in-memory and the real one decide alike.
public struct TokenBucket: Hashable, Sendable, Codable {
    public var tokens: Double
    public var updatedAt: Instant

    public init(tokens: Double, updatedAt: Instant) {
        self.tokens = tokens
        self.updatedAt = updatedAt
    }

    /// How fast a bucket refills and how much it holds. A rate of 0 is no limit.
    public struct Policy: Hashable, Sendable, Codable {
        /// Tokens a second.
        public var rate: Double
        public var burst: Double

        public init(rate: Double, burst: Double) {
            self.rate = rate
            self.burst = burst
        }

        public var limits: Bool { rate > 0 }
    }

    /// The bucket at `now` (`nil`: never used, full), refilled; whether it has a token for one
    /// request, the bucket after taking it (or unchanged when refused), and how long until a token
    /// is there (zero when allowed).
    public static func take(_ bucket: TokenBucket?, policy: Policy, at now: Instant) -> (allowed: Bool, bucket: TokenBucket, retryAfter: Duration) {
        var current = bucket ?? TokenBucket(tokens: policy.burst, updatedAt: now)
        let elapsed = max(0, Double(now.nanosecondsSinceEpoch - current.updatedAt.nanosecondsSinceEpoch) / 1e9)
        current.tokens = min(policy.burst, current.tokens + elapsed * policy.rate)
        current.updatedAt = max(now, current.updatedAt)
        guard current.tokens >= 1 else {
            let wait = (1 - current.tokens) / policy.rate
            return (false, current, .nanoseconds(Int64((wait * 1e9).rounded(.up))))
        }
        current.tokens -= 1
        return (true, current, .zero)
    }
}

/// What a request is limited by: a bucket's key (`buyer:u-1`, `address:10.0.0.7`) and its policy.
public struct RateLimitedKey: Hashable, Sendable {
    public var key: String
    public var policy: TokenBucket.Policy

    public init(_ key: String, _ policy: TokenBucket.Policy) {
        self.key = key
        self.policy = policy
    }
}

/// The bucket that refused a request: its position among the keys asked, and how long until it
/// has a token again.
public struct RateLimitRefusal: Hashable, Sendable {
    public var index: Int
    public var retryAfter: Duration

    public init(index: Int, retryAfter: Duration) {
        self.index = index
        self.retryAfter = retryAfter
    }
}

/// Rate limits shared by every replica. Adapters: in-memory, Redis (one script, atomic).
public protocol RateLimiter: Sendable {
    /// Takes a token from each bucket in order, as one step: the first that has none stops it, and
    /// it and the ones after give nothing, while the ones before keep what they gave (a request
    /// asks its address's bucket, then its buyer's, in one round trip, as it would in two).
    /// `nil`: every bucket gave a token.
    func take(_ keys: [RateLimitedKey], at now: Instant) async throws -> RateLimitRefusal?
}
