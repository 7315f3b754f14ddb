public import Domain
import Foundation

/// The request path's event log on the live server: `append` adds the events to the Redis stream
/// `fd:outbox` as one entry (one round trip, durable as Redis's AOF is), and `OutboxRelay` carries
/// them to Kafka. Requests therefore never wait on the broker or on MongoDB. The stock gate's own
/// changes travel the same way through each deal's journal stream, written inside the gate script.
public struct RedisOutbox: EventLog {
    let pool: RedisPool
    let prefix: String

    public init(pool: RedisPool, prefix: String = "fd") {
        self.pool = pool
        self.prefix = prefix
    }

    public var key: String { Self.key(prefix: prefix) }
    static func key(prefix: String) -> String { "\(prefix):outbox" }

    public func append(_ events: [EventEnvelope], expected: ExpectedVersion) async throws {
        guard !events.isEmpty else { return }
        _ = try await pool.send(["XADD", key, "*", "events", String(decoding: try Self.encoder.encode(events), as: UTF8.self)])
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
