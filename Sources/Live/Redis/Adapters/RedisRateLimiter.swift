public import Domain

/// Token buckets in Redis, shared by every replica: one script takes a token from each of a
/// request's buckets, all or none, with `TokenBucket`'s arithmetic (a hash per bucket: `t` tokens,
/// `u` updated, in seconds; it expires once it would be full again). The buckets share the hash tag
/// `{<prefix>:rl}`, so a Redis Cluster keeps them in one slot and the script stays atomic.
public struct RedisRateLimiter: RateLimiter {
    let pool: RedisPool
    let prefix: String
    let script: RedisScript

    public init(pool: RedisPool, prefix: String = "fd") async throws {
        self.pool = pool
        self.prefix = prefix
        script = try await RedisScript(Self.source, on: pool)
    }

    public func take(_ keys: [RateLimitedKey], at now: Instant) async throws -> Duration? {
        let limited = keys.filter(\.policy.limits)
        guard !limited.isEmpty else { return nil }
        let seconds = Double(now.nanosecondsSinceEpoch) / 1e9
        let reply = try await script.run(
            on: pool, keys: limited.map { "{\(prefix):rl}:\($0.key)" },
            arguments: [String(seconds)] + limited.flatMap { [String($0.policy.rate), String($0.policy.burst)] })
        guard let text = reply.string, let wait = Double(text), wait.isFinite, wait >= 0 else {
            throw RedisError(.protocolError, "the rate limiter answered \(reply)")
        }
        return wait == 0 ? nil : .nanoseconds(Int64((wait * 1e9).rounded(.up)))
    }

    /// ARGV: now (seconds), then each key's rate and burst. Returns the wait in seconds, "0" when
    /// every bucket had a token (and each gave one).
    static let source = """
        local now = tonumber(ARGV[1])
        local wait = 0
        local states = {}
        for i, key in ipairs(KEYS) do
          local rate = tonumber(ARGV[2 * i])
          local burst = tonumber(ARGV[2 * i + 1])
          local stored = redis.call('HMGET', key, 't', 'u')
          local tokens = tonumber(stored[1]) or burst
          local updated = tonumber(stored[2]) or now
          tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
          updated = math.max(now, updated)
          if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
          states[i] = {tokens, updated, burst / rate}
        end
        if wait > 0 then return string.format('%.6f', wait) end
        for i, key in ipairs(KEYS) do
          redis.call('HSET', key, 't', string.format('%.6f', states[i][1] - 1), 'u', string.format('%.6f', states[i][2]))
          redis.call('PEXPIRE', key, math.ceil(states[i][3] * 1000) + 1000)
        end
        return '0'
        """
}
