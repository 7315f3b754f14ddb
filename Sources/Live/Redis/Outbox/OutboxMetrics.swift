import Domain
public import Prometheus

/// The outbox's series on `/metrics`, what an operator watches while Kafka or MongoDB is away:
/// entries waiting and the age of the oldest (`flashdeal_outbox_entries`,
/// `flashdeal_outbox_oldest_entry_age_seconds`), dead letters waiting
/// (`flashdeal_outbox_dead_letters`), and counters of the relay's retries and of entries it moved
/// to the dead stream, the time Kafka took to acknowledge each batch the relay sent
/// (`flashdeal_outbox_relay_publish_duration_seconds`); and each deal's stock conservation (`flashdeal_stock_conservation_units`,
/// available + reserved + sold − total, which must stay 0). The relay updates the gauges about
/// once a second.
public final class OutboxMetrics: Sendable {
    let entries: Gauge
    let oldestAge: Gauge
    let deadLetters: Gauge
    let retries: Counter
    let deadLettered: Counter
    let publishDuration: DurationHistogram
    let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        func name(_ metric: String, _ unit: String?, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "flashdeal", subsystem: "outbox", metricName: metric, unitName: unit, helpText: help)
        }
        entries = registry.makeGauge(descriptor: name("entries", nil, "Entries waiting in the Redis outbox and the deals' journals"))
        oldestAge = registry.makeGauge(descriptor: name("oldest_entry_age", "seconds", "How long the oldest waiting outbox entry has waited"))
        deadLetters = registry.makeGauge(descriptor: name("dead_letters", nil, "Entries in the outbox's dead stream, waiting to be re-driven"))
        retries = registry.makeCounter(descriptor: name("relay_retries", "total", "Relay attempts that failed and wait to be retried"))
        deadLettered = registry.makeCounter(descriptor: name("dead_lettered", "total", "Outbox entries the relay could not read, moved to the dead stream"))
        publishDuration = registry.makeDurationHistogram(
            descriptor: name("relay_publish_duration", "seconds", "How long the relay waited for Kafka to acknowledge a stream's batch"),
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                      .milliseconds(500), .seconds(1), .seconds(5), .seconds(10)])
    }

    func outbox(_ depth: OutboxDepth) {
        entries.set(Int64(depth.entries))
        oldestAge.set(Double(depth.oldestAge.nanoseconds) / 1e9)
        deadLetters.set(Int64(depth.deadLetters))
        for (deal, imbalance) in depth.imbalance {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "flashdeal", subsystem: "stock", metricName: "conservation", unitName: "units",
                    helpText: "A deal's available + reserved + sold - total in its stock gate (0 unless units were created or lost)"),
                labels: [("deal", deal.rawValue)]
            ).set(Int64(imbalance))
        }
    }

    func relayRetried() { retries.increment() }
    func published(in duration: Duration) { publishDuration.recordNanoseconds(duration.nanoseconds) }
    func deadLettered(_ count: Int) { deadLettered.increment(by: Int64(count)) }
}
