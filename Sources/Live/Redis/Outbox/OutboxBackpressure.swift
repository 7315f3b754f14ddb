public import Domain
public import Logging
public import Prometheus
public import ServiceLifecycle
import Synchronization
import LiveRuntime

/// The outbox's streams in Redis: the request path's `fd:outbox`, and every deal's journal and
/// checkout outbox.
struct OutboxStreams: Sendable {
    let pool: RedisPool
    let prefix: String

    /// Every stream, the outbox first; a journal names its deal (`deal`), an outbox of events does
    /// not (`deal` nil: its entries hold the events themselves).
    func keys() async throws -> [(key: String, deal: DealID?)] {
        let deals = try await RedisStockLedger.deals(on: pool, prefix: prefix)
        return [(key: RedisOutbox.key(prefix: prefix), deal: DealID?.none)]
            + deals.flatMap {
                [(key: RedisStockLedger.journalKey(prefix: prefix, deal: $0), deal: $0), (key: RedisOutbox.key(prefix: prefix, deal: $0), deal: nil)]
            }
    }

    /// Entries waiting (the relay deletes each once Kafka has it), the oldest's age, the dead
    /// letters, and each deal's stock conservation (its gate's available + reserved + sold − total,
    /// read in one step per deal): two round trips.
    func depth(now: Instant) async throws -> OutboxDepth {
        let streams = try await keys()
        let deals = streams.compactMap(\.deal)
        let replies = try await pool.pipeline(
            streams.flatMap { [["XLEN", $0.key], ["XRANGE", $0.key, "-", "+", "COUNT", "1"]] } + [["XLEN", OutboxDeadLetters.key(prefix: prefix)]]
                + deals.map { ["HMGET", RedisStockLedger.gateKey(prefix: prefix, deal: $0), "available", "reserved", "sold", "total"] })
        let gates = replies.suffix(deals.count)
        var depth = OutboxDepth(entries: 0, oldestAge: .zero, deadLetters: Int(replies[replies.count - deals.count - 1].integer ?? 0))
        for (deal, gate) in zip(deals, gates) {
            let counts = gate.array.map { $0.string.flatMap { Int($0) } }
            guard counts.count == 4, let available = counts[0], let reserved = counts[1], let sold = counts[2], let total = counts[3] else { continue }
            depth.imbalance[deal] = available + reserved + sold - total
        }
        let nowMs = now.nanosecondsSinceEpoch / 1_000_000
        for i in stride(from: 0, to: 2 * streams.count, by: 2) {
            depth.entries += Int(replies[i].integer ?? 0)
            if let id = replies[i + 1].array.first?.array.first?.string, let ms = Int64(id.prefix { $0 != "-" }) {
                depth.oldestAge = max(depth.oldestAge, .milliseconds(max(0, nowMs - ms)))
            }
        }
        return depth
    }
}

/// The outbox's bound. While Kafka is away the outbox grows in Redis's memory, and a Redis that
/// runs out of it (with `noeviction`, as the shop requires) refuses every write, payments and
/// cancellations included. So each API replica reads the outbox's depth about once a second and,
/// from `cap` entries waiting, refuses new orders (``refusal``: the request fails with that
/// message and nothing is reserved) while payments and cancellations of the orders already taken
/// go on; orders are taken again once the relay has brought the depth under the cap. A warning is
/// logged when the depth first passes `warning` of the cap; what it reads is on `/metrics` as the
/// relay's (``OutboxMetrics``: `flashdeal_outbox_entries` and the others), and the cap beside it
/// (`flashdeal_outbox_cap`), for the alert. Sizing the cap: `docs/data/redis.md`.
public final class OutboxBackpressure: Service, Sendable {
    public struct Limits: Sendable, Hashable {
        /// Entries waiting from which new orders are refused.
        public var cap: Int
        /// The share of the cap from which a warning is logged.
        public var warning: Double
        /// How often the depth is read.
        public var interval: Duration

        public init(cap: Int = 500_000, warning: Double = 0.8, interval: Duration = .seconds(1)) {
            self.cap = cap
            self.warning = warning
            self.interval = interval
        }
    }

    let streams: OutboxStreams
    public let limits: Limits
    let logger: Logger
    let backlog = Atomic<Int>(0)
    let metrics: OutboxMetrics?

    /// `metrics`: the outbox's gauges, shared with the relay where both run; `registry` gets the cap.
    public init(
        pool: RedisPool, prefix: String = "fd", limits: Limits = .init(), metrics: OutboxMetrics? = nil,
        registry: PrometheusCollectorRegistry? = nil, logger: Logger
    ) {
        streams = OutboxStreams(pool: pool, prefix: prefix)
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        registry?.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "flashdeal", subsystem: "outbox", metricName: "cap", helpText: "Entries waiting from which this API replica refuses new orders"))
            .set(Int64(limits.cap))
    }

    /// Why a new order is refused now, or nil.
    public var refusal: String? {
        let waiting = backlog.load(ordering: .relaxed)
        guard waiting >= limits.cap else { return nil }
        return "new orders are paused: \(waiting) events wait in the outbox for Kafka (the cap is \(limits.cap)); try again shortly"
    }

    /// Reads the depth once; returns it.
    @discardableResult
    public func check() async throws -> Int {
        let depth = try await streams.depth(now: WallClock().now())
        metrics?.outbox(depth)
        let waiting = depth.entries
        let before = backlog.exchange(waiting, ordering: .relaxed)
        let warnAt = Int(Double(limits.cap) * limits.warning)
        if waiting >= warnAt, before < warnAt {
            logger.warning("the outbox is filling: Kafka is not taking events as fast as orders come", metadata: [
                "flashdeal.outbox.backlog": "\(waiting)", "flashdeal.outbox.cap": "\(limits.cap)",
            ])
        }
        if waiting >= limits.cap, before < limits.cap {
            logger.error("the outbox is at its cap: new orders are refused until the relay brings it under", metadata: [
                "flashdeal.outbox.backlog": "\(waiting)", "flashdeal.outbox.cap": "\(limits.cap)",
            ])
        }
        return waiting
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await check() } catch {
                // Redis away: orders fail on their own; keep the last reading.
                logger.debug("outbox depth unread", metadata: ["flashdeal.error": "\(error)"])
            }
            try? await Task.sleep(for: limits.interval)
        }
    }
}
