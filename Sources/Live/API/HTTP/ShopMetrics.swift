import Domain
import Foundation
public import Prometheus
import Synchronization

/// The shop's Prometheus metrics, served at `GET /metrics`: HTTP requests by route and status,
/// their durations, and business outcomes by operation (how many orders were placed, sold out,
/// over the limit, ...).
public final class ShopMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                      .milliseconds(100), .milliseconds(150), .milliseconds(200), .milliseconds(500), .seconds(1), .seconds(5)]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The counter and histogram of a route and status, made once (the registry's lookup takes a
    /// lock and hashes the labels on every call).
    private let requestSeries = Mutex([String: (requests: Counter, durations: DurationHistogram)]())

    func request(route: String, status: Int, duration: Duration) {
        let key = "\(status) \(route)"
        let series = requestSeries.withLock { series in
            if let found = series[key] { return found }
            let made = (
                requests: registry.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "flashdeal", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by route and status"),
                    labels: [("route", route), ("status", String(status))]),
                durations: registry.makeDurationHistogram(
                    descriptor: MetricNameDescriptor(namespace: "flashdeal", metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request durations by route"),
                    labels: [("route", route)], buckets: Self.buckets)
            )
            series[key] = made
            return made
        }
        series.requests.increment()
        series.durations.recordNanoseconds(duration.nanoseconds)
    }

    func outcome(_ operation: String, _ outcome: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "flashdeal", metricName: "business_outcomes", unitName: "total", helpText: "Business outcomes by operation"),
            labels: [("operation", operation), ("outcome", outcome)]
        ).increment()
    }

    /// A request the admission gate refused (`queue_full` or `timed_out`).
    func shed(_ reason: String) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "flashdeal", metricName: "http_shed_requests", unitName: "total", helpText: "Requests refused by load shedding, by reason"),
            labels: [("reason", reason)]
        ).increment()
    }

    /// The exposition text.
    public func text() -> String { registry.emitToString() }
}
