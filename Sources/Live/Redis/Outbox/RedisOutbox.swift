public import Domain
import Foundation
import LiveRuntime

/// The request path's event log on the live server: `append` adds the events to the Redis stream
/// `fd:outbox` as one entry (one round trip, durable as Redis's AOF is), and `OutboxRelay` carries
/// them to Kafka. Requests therefore never wait on the broker or on MongoDB. The stock gate's own
/// changes travel the same way through each deal's journal stream, written inside the gate script,
/// and the checkout's steps write their events to their deal's outbox, `fd:{deal}:outbox`, in the
/// deal's hash slot (`RedisCheckoutSteps`).
///
/// With `journalled` (the live server, where the stock ledger is `RedisStockLedger`), the events
/// the gate's journal already carries are left out: every deal and inventory event, and the
/// `OrderPlaced` the relay derives from a journalled reservation. Each fact then travels once.
public struct RedisOutbox: EventLog {
    let pool: RedisPool
    let prefix: String
    let journalled: Bool

    public init(pool: RedisPool, prefix: String = "fd", journalled: Bool = false) {
        self.pool = pool
        self.prefix = prefix
        self.journalled = journalled
    }

    /// Whether the gate's journal carries `event` (so this outbox need not).
    static func isJournalled(_ event: EventEnvelope) -> Bool {
        switch event.payload {
        case .deal, .inventory, .order(.placed): true
        default: false
        }
    }

    public var key: String { Self.key(prefix: prefix) }
    static func key(prefix: String) -> String { "\(prefix):outbox" }
    /// The outbox of `deal`'s checkout steps.
    public func key(_ deal: DealID) -> String { Self.key(prefix: prefix, deal: deal) }
    static func key(prefix: String, deal: DealID) -> String { "\(prefix):{\(deal)}:outbox" }

    public func append(_ events: [EventEnvelope], expected: ExpectedVersion) async throws {
        guard let entry = try entry(events) else { return }
        try await pool.traced("XADD", "outbox") { span in
            let traceParent = TraceContext.traceParent(span?.context)
            _ = try await pool.send(["XADD", key, "*"] + (traceParent.isEmpty ? [] : [TraceContext.entryField, traceParent]) + ["events", entry])
        }
    }

    /// The `events` field of the entry that carries `events` (those the journal does not), or nil
    /// when none is left to carry. `RedisCheckoutSteps` adds entries inside its scripts.
    func entry(_ events: [EventEnvelope]) throws -> String? {
        let carried = journalled ? events.filter { !Self.isJournalled($0) } : events
        return carried.isEmpty ? nil : try Self.encoder.string(carried)
    }

    static let encoder = CompactJSONEncoder(sortedKeys: true)
}
