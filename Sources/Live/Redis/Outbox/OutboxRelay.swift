public import Domain
import Foundation
public import Logging
public import ServiceLifecycle
import LiveRuntime
import Tracing

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
        /// The first pause after a failure; each further failure doubles it up to `maximumRetry`.
        public var retry: Duration = .milliseconds(500)
        public var maximumRetry: Duration = .seconds(30)
        /// This replica's name in the consumer group.
        public var consumer = "relay-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        public init() {}
    }

    let pool: RedisPool
    let sink: any EventPublisher
    let catalog: any DealCatalog
    let configuration: Configuration
    let logger: Logger
    let metrics: OutboxMetrics?
    let state = RelayState()
    /// Where entries that cannot be read go, whole.
    public let deadLetters: OutboxDeadLetters
    let streams: OutboxStreams
    static let group = "relay"

    public init(
        pool: RedisPool, sink: any EventPublisher, catalog: any DealCatalog, configuration: Configuration = .init(),
        metrics: OutboxMetrics? = nil, logger: Logger
    ) {
        self.pool = pool
        self.sink = sink
        self.catalog = catalog
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        deadLetters = OutboxDeadLetters(pool: pool, prefix: configuration.prefix)
        streams = OutboxStreams(pool: pool, prefix: configuration.prefix)
    }

    public func run() async throws {
        var lastClaim = ContinuousClock.now, lastGauge = ContinuousClock.now - .seconds(1)
        var failures = 0
        while !Task.isCancelled {
            do {
                let claim = ContinuousClock.now - lastClaim > configuration.claimAfter / 2
                if claim { lastClaim = .now }
                let relayed = try await relayOnce(claimOthers: claim)
                failures = 0
                if let metrics, ContinuousClock.now - lastGauge >= .seconds(1) {
                    lastGauge = .now
                    metrics.outbox(try await depth(now: WallClock().now()))
                }
                // On shutdown, stop once the outbox is drained (or the broker cannot take it).
                if relayed == 0 {
                    if Task.isShuttingDownGracefully { return }
                    try? await Task.sleep(for: configuration.idle)
                }
            } catch {
                failures += 1
                let delay = Self.backOff(failures, base: configuration.retry, maximum: configuration.maximumRetry)
                metrics?.relayRetried()
                // Logged as an error once the outage outlasts a few attempts: someone should look.
                logger.log(
                    level: failures > 3 ? .error : .warning, "outbox relay failed; the entries stay in Redis and are sent again",
                    metadata: ["flashdeal.error": "\(error)", "flashdeal.relay.failures": "\(failures)", "flashdeal.retry.after": "\(delay)"])
                if Task.isShuttingDownGracefully { return }
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// The outbox's size now: entries waiting in every stream and the age of the oldest (its id
    /// is the time Redis added it), and the dead letters. One pipelined round trip.
    public func depth(now: Instant) async throws -> OutboxDepth {
        try await streams.depth(now: now)
    }

    /// The pause after `failures` failures in a row: `base` doubled for each after the first, at
    /// most `maximum`.
    public static func backOff(_ failures: Int, base: Duration, maximum: Duration) -> Duration {
        min(maximum, base * (1 << min(max(0, failures - 1), 20)))
    }

    /// The request path's outbox and every deal's journal.
    func streamKeys() async throws -> [(key: String, deal: DealID?)] {
        try await streams.keys()
    }

    /// Relays one batch from every stream; returns how many entries went to the sink. Idle, it
    /// costs two round trips (the deal list, then one pipelined read of every stream).
    @discardableResult
    public func relayOnce(claimOthers: Bool = false) async throws -> Int {
        // A stream waiting out a back-off after a failure is left alone until it is due.
        let streams = try await streamKeys().filter { state.isDue($0.key, now: .now) }
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
            relayed += try await relay(entries, from: stream.key, deal: stream.deal)
        }
        return relayed
    }

    /// Sends one stream's entries, in order, and once the broker acknowledged them acknowledges and
    /// deletes them in Redis. An entry that cannot be read (not what the request path or the gate
    /// script writes) is moved to the dead stream whole, with the reason, so nothing is lost and
    /// `flashdeal outbox redrive` can put it back. An entry whose events cannot be built for now
    /// (the deal's terms unreadable: MongoDB down, the catalogue's copies expired) stops the
    /// stream there: the entries before it are sent, it and the rest stay pending in Redis, and
    /// the stream is tried again after a back-off that doubles up to `maximumRetry`. Returns how
    /// many entries were sent or dead-lettered.
    @discardableResult
    func relay(_ entries: [Entry], from key: String, deal: DealID?) async throws -> Int {
        var envelopes: [EventEnvelope] = []
        var unreadable: [(entry: Entry, reason: String)] = []
        var done = entries.count
        // A traced entry's `send` span: a child of the request's, its context in each message's headers.
        var spans: [any Span] = []
        defer { for span in spans { span.end() } }
        for (index, entry) in entries.enumerated() {
            do {
                var made = try await self.envelopes(entry, deal: deal)
                if let span = Self.sendSpan(entry, from: key, deal: deal, messages: made.count) {
                    let headers = TraceContext.fields(span.context)
                    for i in made.indices { made[i].headers = headers }
                    spans.append(span)
                }
                envelopes += made
            } catch let error as MalformedEntry {
                unreadable.append((entry, error.reason))
            } catch {
                done = index
                let delay = state.failed(key, base: configuration.retry, maximum: configuration.maximumRetry)
                metrics?.relayRetried()
                logger.error("outbox entry cannot be relayed yet; the stream waits and tries again", metadata: [
                    "flashdeal.outbox.entry": "\(key) \(entry.id)", "flashdeal.outbox.waiting": "\(entries.count - index)",
                    "flashdeal.retry.after": "\(delay)", "flashdeal.error": "\(error)",
                ])
                break
            }
        }
        let publishing = ContinuousClock.now
        do {
            try await sink.publish(envelopes)
            if !envelopes.isEmpty { metrics?.published(in: .now - publishing) }
        } catch {
            for span in spans {
                span.recordError(error)
                span.setStatus(.init(code: .error))
            }
            throw error
        }
        if !unreadable.isEmpty {
            try await deadLetters.add(unreadable.map { DeadLetter(stream: key, entryID: $0.entry.id, reason: $0.reason, fields: $0.entry.fields) })
            for (entry, reason) in unreadable {
                logger.error("outbox entry cannot be read; moved whole to the dead stream", metadata: ["flashdeal.outbox.entry": "\(key) \(entry.id)", "flashdeal.error": "\(reason)"])
            }
            metrics?.deadLettered(unreadable.count)
        }
        let ids = entries.prefix(done).map(\.id)
        if !ids.isEmpty { _ = try await pool.pipeline([["XACK", key, Self.group] + ids, ["XDEL", key] + ids]) }
        if done == entries.count {
            state.succeeded(key)
            state.noPending(key)
        }
        return done
    }

    struct Entry {
        var id: String
        var fields: [String: String]
    }

    /// The producer span for an entry the request path traced (its `tp` field), ended once the
    /// broker acknowledged its messages; nil for an untraced entry.
    static func sendSpan(_ entry: Entry, from key: String, deal: DealID?, messages: Int) -> (any Span)? {
        guard let parent = TraceContext.context(traceParent: entry.fields[TraceContext.entryField]) else { return nil }
        let span = startSpan("send", context: parent, ofKind: .producer)
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.operation.type"] = "send"
        span.attributes["messaging.operation.name"] = "send"
        span.attributes["messaging.batch.message_count"] = messages
        span.attributes["flashdeal.outbox.stream"] = key
        span.attributes["flashdeal.outbox.entry"] = entry.id
        if let deal { span.attributes["flashdeal.deal.id"] = deal.rawValue }
        return span
    }

    /// The events an entry holds: a request's events, or a gate change rebuilt as the ledger does
    /// (a reservation also places its order, derived from the deal's terms as the Domain does).
    /// Throws ``MalformedEntry`` for an entry no retry can read, anything else for a failure that
    /// may pass (the catalogue).
    func envelopes(_ entry: Entry, deal: DealID?) async throws -> [EventEnvelope] {
        guard let deal else {
            guard let json = entry.fields["events"] else { throw MalformedEntry("outbox entry without events") }
            do { return try CompactJSONDecoder().decode([EventEnvelope].self, from: json) } catch {
                throw MalformedEntry("outbox entry's events do not decode: \(error)")
            }
        }
        guard let op = entry.fields["op"], let at = entry.fields["at"].flatMap(Int64.init),
            let args = entry.fields["args"], let reply = entry.fields["reply"]
        else { throw MalformedEntry("journal entry lacks op, at, args or reply") }
        let instant = Instant(nanosecondsSinceEpoch: at)
        let arguments: [String], replies: [RedisReply]
        do {
            arguments = try Self.strings(args).map { $0.string ?? "" }
            replies = try Self.strings(reply)
        } catch { throw MalformedEntry("journal entry's args or reply is not a JSON array: \(error)") }
        var terms: DealTerms?
        if op == "create" || op == "reserve" {
            // Not malformed: the catalogue is down or does not have the deal yet. The entry waits.
            guard let found = try await catalog.deal(deal) else { throw TermsUnavailable(dealID: deal) }
            terms = found
        }
        var events: [SequencedEvent]
        do {
            events = try RedisStockLedger.events(op, deal, at: instant, arguments, replies, terms: terms)
        } catch { throw MalformedEntry("journal entry does not rebuild: \(error)") }
        if case .inventory(.reserved(let reserved)) = events.first?.event, let terms {
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

/// Which streams have the relay's consumer group, which may hold entries this replica read but
/// has not had acknowledged (all of them at start, after a restart), and which wait out a back-off.
final class RelayState: @unchecked Sendable {
    // Safe: every field is read and written under `lock`.
    private let lock = NSLock()
    private var groups: Set<String> = []
    private var clean: Set<String> = []
    private var waiting: [String: (failures: Int, until: ContinuousClock.Instant)] = [:]

    func hasGroup(_ key: String) -> Bool { lock.withLock { groups.contains(key) } }
    func madeGroup(_ key: String) { _ = lock.withLock { groups.insert(key) } }
    func lostGroup(_ key: String) { lock.withLock { _ = groups.remove(key); _ = clean.remove(key) } }
    func mayHavePending(_ key: String) -> Bool { lock.withLock { !clean.contains(key) } }
    func noPending(_ key: String) { _ = lock.withLock { clean.insert(key) } }
    func pending(_ key: String) { _ = lock.withLock { clean.remove(key) } }

    func isDue(_ key: String, now: ContinuousClock.Instant) -> Bool { lock.withLock { (waiting[key]?.until ?? now) <= now } }
    func succeeded(_ key: String) { _ = lock.withLock { waiting.removeValue(forKey: key) } }
    /// Records a failure of `key`'s stream; returns how long it now waits.
    func failed(_ key: String, base: Duration, maximum: Duration) -> Duration {
        lock.withLock {
            let failures = (waiting[key]?.failures ?? 0) + 1
            let delay = OutboxRelay.backOff(failures, base: base, maximum: maximum)
            waiting[key] = (failures, .now + delay)
            return delay
        }
    }

}

/// A journal or outbox entry that no retry can read: it goes to the dead stream, whole.
struct MalformedEntry: Error, CustomStringConvertible {
    var reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { reason }
}

/// A reservation's deal terms could not be read from the catalogue (down, or the deal not there
/// yet): its order waits in the outbox until they can.
public struct TermsUnavailable: Error, CustomStringConvertible {
    public var dealID: DealID
    public var description: String { "the catalogue has no terms for deal \(dealID)" }
}

/// What the outbox holds now.
public struct OutboxDepth: Sendable, Hashable {
    /// Entries waiting in the request path's outbox and every deal's journal.
    public var entries: Int
    /// How long the oldest of them has waited.
    public var oldestAge: Duration
    /// Entries moved to the dead stream (until re-driven).
    public var deadLetters: Int
    /// Each deal's available + reserved + sold − total in its stock gate: 0 while the gate
    /// conserves its units, whatever fails.
    public var imbalance: [DealID: Int]

    public init(entries: Int, oldestAge: Duration, deadLetters: Int, imbalance: [DealID: Int] = [:]) {
        self.entries = entries
        self.oldestAge = oldestAge
        self.deadLetters = deadLetters
        self.imbalance = imbalance
    }
}
