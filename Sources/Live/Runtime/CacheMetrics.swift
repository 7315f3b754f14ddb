public import Prometheus

/// Cache lookups on `/metrics`, by cache and result (`flashdeal_cache_lookups_total{cache, result}`,
/// `result` `hit` or `miss`; a hit ratio is `hit / (hit + miss)` over a rate). The caches: the
/// catalogue's in-process copies (`catalog_local`), its Redis copies for what the process did not
/// hold (`catalog_redis`, a miss goes to MongoDB), its deal pages (`deal_pages`), and the API's
/// public responses (`responses`). Every series exists from 0.
public final class CacheMetrics: Sendable {
    public static let caches = ["catalog_local", "catalog_redis", "deal_pages", "responses"]
    let counters: [String: (hit: Counter, miss: Counter)]
    let recording: Bool

    public init(registry: PrometheusCollectorRegistry, recording: Bool = true) {
        self.recording = recording
        var counters: [String: (hit: Counter, miss: Counter)] = [:]
        for cache in Self.caches {
            func counter(_ result: String) -> Counter {
                registry.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "flashdeal", subsystem: "cache", metricName: "lookups", unitName: "total", helpText: "Cache lookups by cache and result"),
                    labels: [("cache", cache), ("result", result)])
            }
            counters[cache] = (counter("hit"), counter("miss"))
        }
        self.counters = counters
    }

    /// `hits` and `misses` lookups of `cache` (one of ``caches``).
    public func looked(_ cache: String, hits: Int, misses: Int) {
        guard recording, let pair = counters[cache] else { return }
        if hits > 0 { pair.hit.increment(by: Int64(hits)) }
        if misses > 0 { pair.miss.increment(by: Int64(misses)) }
    }
}
