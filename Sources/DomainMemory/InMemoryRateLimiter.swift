public import Domain

/// Token buckets in this process: the embedded mode's and the tests' rate limiter.
public actor InMemoryRateLimiter: RateLimiter {
    private var buckets: [String: TokenBucket] = [:]

    public init() {}

    public func take(_ keys: [RateLimitedKey], at now: Instant) -> RateLimitRefusal? {
        for (index, limited) in keys.enumerated() where limited.policy.limits {
            let (allowed, bucket, retryAfter) = TokenBucket.take(buckets[limited.key], policy: limited.policy, at: now)
            guard allowed else { return RateLimitRefusal(index: index, retryAfter: retryAfter) }
            buckets[limited.key] = bucket
        }
        return nil
    }
}
