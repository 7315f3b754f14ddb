public import Domain

/// Token buckets in Redis, shared by every replica: one script takes a token from each of a
/// request's buckets in order until one has none (``RateLimiter/take(_:at:)``), with
/// `TokenBucket`'s arithmetic (a hash per bucket: `t` tokens,
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

    public func take(_ keys: [RateLimitedKey], at now: Instant) async throws -> RateLimitRefusal? {
        let limited = keys.enumerated().filter(\.element.policy.limits)
        guard !limited.isEmpty else { return nil }
        let seconds = Double(now.nanosecondsSinceEpoch) / 1e9
        let reply = try await script.run(
            on: pool, keys: limited.map { "{\(prefix):rl}:\($0.element.key)" },
            arguments: [String(seconds)] + limited.flatMap { [String($0.element.policy.rate), String($0.element.policy.burst)] })
        guard let text = reply.string else { throw RedisError(.protocolError, "the rate limiter answered \(reply)") }
        if text == "ok" { return nil }
        let parts = text.split(separator: " ")
        guard parts.count == 2, let position = Int(parts[0]), limited.indices.contains(position - 1), let wait = Double(parts[1]), wait.isFinite, wait > 0 else {
            throw RedisError(.protocolError, "the rate limiter answered \(text)")
        }
        return RateLimitRefusal(index: limited[position - 1].offset, retryAfter: .nanoseconds(Int64((wait * 1e9).rounded(.up))))
    }

    /// ARGV: now (seconds), then each key's rate and burst. Takes a token from each bucket in turn;
    /// returns "ok" when each gave one, else "<position> <wait in seconds>" of the first that had
    /// none (it and the ones after unchanged).
    static let source = """
        local now = tonumber(ARGV[1])
        for i, key in ipairs(KEYS) do
          local rate = tonumber(ARGV[2 * i])
          local burst = tonumber(ARGV[2 * i + 1])
          local stored = redis.call('HMGET', key, 't', 'u')
          local tokens = tonumber(stored[1]) or burst
          local updated = tonumber(stored[2]) or now
          tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
          updated = math.max(now, updated)
          if tokens < 1 then return i .. ' ' .. string.format('%.6f', (1 - tokens) / rate) end
          redis.call('HSET', key, 't', string.format('%.6f', tokens - 1), 'u', string.format('%.6f', updated))
          redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
        end
        return 'ok'
        """
}
