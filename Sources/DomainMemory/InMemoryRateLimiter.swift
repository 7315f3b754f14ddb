public import Domain

/// Token buckets in this process: the embedded mode's and the tests' rate limiter.
public actor InMemoryRateLimiter: RateLimiter {
    private var buckets: [String: TokenBucket] = [:]

    public init() {}

    public func take(_ keys: [RateLimitedKey], at now: Instant) -> Duration? {
        var taken: [(String, TokenBucket)] = []
        var wait = Duration.zero
        for limited in keys where limited.policy.limits {
            let (allowed, bucket, retryAfter) = TokenBucket.take(buckets[limited.key], policy: limited.policy, at: now)
            if allowed { taken.append((limited.key, bucket)) } else { wait = max(wait, retryAfter) }
        }
        guard wait == .zero else { return wait }
        for (key, bucket) in taken { buckets[key] = bucket }
        return nil
    }
}
