public import Domain
import Foundation
public import Logging
public import ServiceLifecycle

/// Carries the Redis outbox to Kafka: the request path's `fd:outbox` stream and every deal's gate
/// journal. Each stream is read through the consumer group `relay`; an entry is acknowledged and
/// deleted only after the broker acknowledged every event it holds, so a broker outage only delays
/// the relay (entries wait in Redis, pending, and are sent again). Replicas share the work through
/// the group; entries a crashed replica left pending are claimed after `claimAfter`. Delivery is at
/// least once: consumers deduplicate by event id.
public struct OutboxRelay: Service {
    public struct Configuration: Sendable {
        public var prefix = "fd"
        public var batchSize = 256
        /// How long an entry may stay pending with another replica before this one claims it.
        public var claimAfter: Duration = .seconds(30)
        /// The pause when there is nothing to relay, and after a failure.
        public var idle: Duration = .milliseconds(20)
        public var retry: Duration = .milliseconds(500)
        /// This replica's name in the consumer group.
        public var consumer = "relay-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        public init() {}
    }

    let pool: RedisPool
    let sink: any EventPublisher
    let catalog: any DealCatalog
    let configuration: Configuration
    let logger: Logger
    let state = RelayState()
    static let group = "relay"

    public init(pool: RedisPool, sink: any EventPublisher, catalog: any DealCatalog, configuration: Configuration = .init(), logger: Logger) {
        self.pool = pool
        self.sink = sink
        self.catalog = catalog
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var lastClaim = ContinuousClock.now
        while !Task.isCancelled {
            do {
                let claim = ContinuousClock.now - lastClaim > configuration.claimAfter / 2
                if claim { lastClaim = .now }
                let relayed = try await relayOnce(claimOthers: claim)
                // On shutdown, stop once the outbox is drained (or the broker cannot take it).
                if relayed == 0 {
                    if Task.isShuttingDownGracefully { return }
                    try? await Task.sleep(for: configuration.idle)
                }
            } catch {
                logger.warning("outbox relay failed; the entries stay in Redis and are sent again", metadata: ["flashdeal.error": "\(error)"])
                if Task.isShuttingDownGracefully { return }
                try? await Task.sleep(for: configuration.retry)
            }
        }
    }

    /// Relays one batch from every stream; returns how many entries went to the sink. Idle, it
    /// costs two round trips (the deal list, then one pipelined read of every stream).
    @discardableResult
    public func relayOnce(claimOthers: Bool = false) async throws -> Int {
        let prefix = configuration.prefix
        let deals = try await pool.send(["SMEMBERS", RedisStockLedger.dealsKey(prefix: prefix)]).array.compactMap(\.string).sorted()
        var streams = [(key: RedisOutbox.key(prefix: prefix), deal: DealID?.none)]
        streams += deals.map { DealID(generated: $0) }.map { (key: RedisStockLedger.journalKey(prefix: prefix, deal: $0), deal: $0) }
        let fresh = streams.map(\.key).filter { !state.hasGroup($0) }
        if !fresh.isEmpty {
            // BUSYGROUP (another replica made it) is as good as made.
            _ = try await pool.pipeline(fresh.map { ["XGROUP", "CREATE", $0, Self.group, "0", "MKSTREAM"] })
            fresh.forEach(state.madeGroup)
        }
        // This replica's own pending entries first (after a restart or a failed send), else new ones.
        let replies = try await pool.pipeline(streams.map { readCommand($0.key, from: state.mayHavePending($0.key) ? "0" : ">") })
        var relayed = 0
        for (stream, reply) in zip(streams, replies) {
            if case .error(let message) = reply {
                if message.hasPrefix("NOGROUP") { state.lostGroup(stream.key) }
                continue
            }
            var entries = Self.readEntries(reply)
            if entries.isEmpty, state.mayHavePending(stream.key) {
                state.noPending(stream.key)
                entries = try await read(stream.key, from: ">")
            }
            if claimOthers { entries += try await claim(stream.key) }
            guard !entries.isEmpty else { continue }
            state.pending(stream.key)  // until the broker acknowledged them
            try await relay(entries, from: stream.key, deal: stream.deal)
            relayed += entries.count
        }
        return relayed
    }

    /// Sends one stream's entries and, once the broker acknowledged them, acknowledges and deletes
    /// them in Redis.
    func relay(_ entries: [Entry], from key: String, deal: DealID?) async throws {
        var envelopes: [EventEnvelope] = []
        var unreadable: [(String, String)] = []
        for entry in entries {
            do {
                envelopes += try await self.envelopes(entry, deal: deal)
            } catch {
                unreadable.append((entry.id, "\(error)"))
            }
        }
        try await sink.publish(envelopes)
        for (id, reason) in unreadable {
            logger.error("outbox entry cannot be read; moved to the dead stream", metadata: ["flashdeal.outbox.entry": "\(key) \(id)", "flashdeal.error": "\(reason)"])
            _ = try await pool.send(["XADD", "\(configuration.prefix):outbox:dead", "*", "stream", key, "entry", id, "reason", reason])
        }
        let ids = entries.map { $0.id }
        _ = try await pool.pipeline([["XACK", key, Self.group] + ids, ["XDEL", key] + ids])
        state.noPending(key)
    }

    struct Entry {
        var id: String
        var fields: [String: String]
    }

    /// The events an entry holds: a request's events, or a gate change rebuilt as the ledger does
    /// (a reservation also places its order, derived from the deal's terms as the Domain does).
    func envelopes(_ entry: Entry, deal: DealID?) async throws -> [EventEnvelope] {
        guard let deal else {
            guard let json = entry.fields["events"] else { throw RedisError(.protocolError, "outbox entry without events") }
            return try JSONDecoder().decode([EventEnvelope].self, from: Data(json.utf8))
        }
        guard let op = entry.fields["op"], let at = entry.fields["at"].flatMap(Int64.init),
            let args = entry.fields["args"], let reply = entry.fields["reply"]
        else { throw RedisError(.protocolError, "journal entry \(entry.id) lacks op, at, args or reply") }
        let instant = Instant(nanosecondsSinceEpoch: at)
        let terms = op == "create" || op == "reserve" ? try await catalog.deal(deal) : nil
        var events = try RedisStockLedger.events(op, deal, at: instant, try Self.strings(args).map { $0.string ?? "" }, try Self.strings(reply), terms: terms)
        if case .inventory(.reserved(let reserved)) = events.first?.event {
            guard let terms else { throw RedisError(.protocolError, "deal \(deal) has no terms in the catalogue") }
            events.append(SequencedEvent(stream: .order(reserved.orderID), sequence: 1, event: .order(.placed(Domain.OrderPlaced(reserved, terms: terms)))))
        }
        return events.map { $0.envelope(at: instant) }
    }

    /// A JSON array of strings and numbers as replies (Lua's cjson writes an empty table as `{}`).
    static func strings(_ json: String) throws -> [RedisReply] {
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8))
        guard let array = value as? [Any] else {
            if let object = value as? [String: Any], object.isEmpty { return [] }
            throw RedisError(.protocolError, "journal field is not an array: \(json)")
        }
        return array.map { item in
            if let number = item as? NSNumber, !(item is String) { return .integer(number.int64Value) }
            return .string("\(item)")
        }
    }

    func read(_ key: String, from id: String) async throws -> [Entry] {
        Self.readEntries(try await pool.send(readCommand(key, from: id)))
    }

    /// This replica's read of one stream: its pending entries (`0`) or new ones (`>`).
    func readCommand(_ key: String, from id: String) -> [String] {
        ["XREADGROUP", "GROUP", Self.group, configuration.consumer, "COUNT", String(configuration.batchSize), "STREAMS", key, id]
    }

    /// `XREADGROUP`'s reply for one stream: `[[key, entries]]`, or nil when there is nothing.
    static func readEntries(_ reply: RedisReply) -> [Entry] {
        reply.array.first.map { entries($0.array.dropFirst().first?.array ?? []) } ?? []
    }

    func claim(_ key: String) async throws -> [Entry] {
        let ms = configuration.claimAfter.nanoseconds / 1_000_000
        let reply = try await pool.send([
            "XAUTOCLAIM", key, Self.group, configuration.consumer, String(ms), "0-0", "COUNT", String(configuration.batchSize),
        ])
        return Self.entries(reply.array.dropFirst().first?.array ?? [])
    }

    /// `[[id, [field, value, ...]], ...]`; a deleted entry still pending reads as `[id, nil]`.
    static func entries(_ items: [RedisReply]) -> [Entry] {
        items.compactMap { item in
            let parts = item.array
            guard let id = parts.first?.string else { return nil }
            let flat = parts.count > 1 ? parts[1].array.map { $0.string ?? "" } : []
            var fields: [String: String] = [:]
            for i in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[i]] = flat[i + 1] }
            return Entry(id: id, fields: fields)
        }
    }
}

/// Which streams have the relay's consumer group, and which may hold entries this replica read
/// but has not had acknowledged (all of them at start, after a restart).
final class RelayState: @unchecked Sendable {
    // Safe: both sets are read and written under `lock`.
    private let lock = NSLock()
    private var groups: Set<String> = []
    private var clean: Set<String> = []

    func hasGroup(_ key: String) -> Bool { lock.withLock { groups.contains(key) } }
    func madeGroup(_ key: String) { _ = lock.withLock { groups.insert(key) } }
    func lostGroup(_ key: String) { lock.withLock { _ = groups.remove(key); _ = clean.remove(key) } }
    func mayHavePending(_ key: String) -> Bool { lock.withLock { !clean.contains(key) } }
    func noPending(_ key: String) { _ = lock.withLock { clean.insert(key) } }
    func pending(_ key: String) { _ = lock.withLock { clean.remove(key) } }
}
