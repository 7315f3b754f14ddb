public import NIOCore
public import NIOPosix
public import Prometheus
public import ServiceLifecycle

/// How late NIO's event loops run what they are given, on `/metrics`
/// (`flashdeal_event_loop_lag_seconds`): every `interval` each loop of the group is handed a task
/// that records how long it waited to run. A loop busy with long callbacks, or starved of CPU,
/// delays every request and Redis reply it carries; the histogram shows it before latency does.
/// Stops on graceful shutdown.
public struct EventLoopLagProbe: Service {
    let group: any EventLoopGroup
    let interval: Duration
    let lag: DurationHistogram

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, interval: Duration = .milliseconds(500), registry: PrometheusCollectorRegistry) {
        self.group = group
        self.interval = interval
        lag = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "flashdeal", metricName: "event_loop_lag", unitName: "seconds",
                helpText: "How long a task handed to an event loop waited to run"),
            buckets: [.microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)])
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            for loop in group.makeIterator() {
                let handed = ContinuousClock.now
                if let waited = try? await loop.submit({ ContinuousClock.now - handed }).get() { lag.recordNanoseconds(waited.nanoseconds) }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
