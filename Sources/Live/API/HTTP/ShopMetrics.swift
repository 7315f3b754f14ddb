import Domain
import Foundation
public import Prometheus
import Synchronization
public import LiveRuntime

/// The shop's Prometheus metrics, served at `GET /metrics`: HTTP requests by route and status,
/// their durations, each GraphQL operation's duration (by its first root field), and business
/// outcomes by operation (how many orders were placed, sold out, over the limit, ...).
public final class ShopMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                      .milliseconds(100), .milliseconds(150), .milliseconds(200), .milliseconds(500), .seconds(1), .seconds(5)]

    /// Cache hits and misses: the API's response cache here, the catalogue's from the composition.
    public let caches: CacheMetrics

    /// Whether requests, operations, outcomes and cache lookups are recorded (`metrics.enabled`;
    /// off only to measure what recording costs: the alerts and dashboards read these series).
    let recording: Bool

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), recording: Bool = true) {
        self.registry = registry
        self.recording = recording
        process = ProcessMetrics(registry: registry)
        caches = CacheMetrics(registry: registry, recording: recording)
    }

    /// The counter and histogram of a route and status, made once (the registry's lookup takes a
    /// lock and hashes the labels on every call).
    private let requestSeries = Mutex([LabelPair: (requests: Counter, durations: DurationHistogram)]())

    func request(route: String, status: Int, duration: Duration) {
        guard recording else { return }
        let key = LabelPair(route, String(status))
        let series = requestSeries.series(key) {
            (
                requests: registry.makeCounter(
                    descriptor: MetricNameDescriptor(namespace: "flashdeal", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by route and status"),
                    labels: [("route", route), ("status", String(status))]),
                durations: registry.makeDurationHistogram(
                    descriptor: MetricNameDescriptor(namespace: "flashdeal", metricName: "http_request_duration", unitName: "seconds", helpText: "HTTP request durations by route"),
                    labels: [("route", route)], buckets: Self.buckets)
            )
        }
        series.requests.increment()
        series.durations.recordNanoseconds(duration.nanoseconds)
    }

    /// Each operation's histogram, made once.
    private let operationSeries = Mutex([String: DurationHistogram]())

    /// A GraphQL request that ran (not one answered from the response cache), from its arrival to
    /// its answer, by its first root field (`placeOrder`, `deal`, ...; `invalid` when it did not
    /// validate).
    func operation(_ label: String, duration: Duration) {
        guard recording else { return }
        let histogram = operationSeries.series(label) {
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "flashdeal", metricName: "graphql_operation_duration", unitName: "seconds",
                    helpText: "GraphQL request durations from arrival to answer, by the operation's first root field"),
                labels: [("operation", label)], buckets: Self.buckets)
        }
        histogram.recordNanoseconds(duration.nanoseconds)
    }

    /// Each operation's and outcome's counter, made once.
    private let outcomeSeries = Mutex([LabelPair: Counter]())

    func outcome(_ operation: String, _ outcome: String) {
        guard recording else { return }
        outcomeSeries.series(LabelPair(operation, outcome)) {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "flashdeal", metricName: "business_outcomes", unitName: "total", helpText: "Business outcomes by operation"),
                labels: [("operation", operation), ("outcome", outcome)])
        }.increment()
    }

    /// The admission gate's requests running and waiting for a worker, read at each scrape
    /// (`flashdeal_admission_requests_running`, `flashdeal_admission_requests_waiting`).
    func admission(running: Int, waiting: Int) {
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "flashdeal", subsystem: "admission", metricName: name, helpText: help))
        }
        gauge("requests_running", "GraphQL requests holding one of the admission gate's workers").set(Int64(running))
        gauge("requests_waiting", "GraphQL requests waiting in the admission gate's queue for a worker").set(Int64(waiting))
        // Each reason's counter from 0, before any request is shed: a rate over it reads 0, not nothing.
        for reason in Self.shedReasons { _ = shedCounter(reason) }
    }

    static let shedReasons = ["queue_full", "timed_out"]

    /// A request the admission gate refused (`queue_full` or `timed_out`).
    func shed(_ reason: String) { shedCounter(reason).increment() }

    func shedCounter(_ reason: String) -> Counter {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "flashdeal", metricName: "http_shed_requests", unitName: "total", helpText: "Requests refused by load shedding, by reason"),
            labels: [("reason", reason)])
    }

    /// The exposition text, with the process's own series (CPU, memory, file descriptors) as
    /// Prometheus's client libraries name them, read at the scrape.
    public func text() -> String {
        process.update()
        return registry.emitToString()
    }

    private let process: ProcessMetrics
}

/// `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds` and
/// `process_start_time_seconds`, the series every Prometheus client library exports for its
/// process: what `flashdeal calibrate` divides by the requests of a load phase, and what a
/// dashboard shows beside the request rate.
final class ProcessMetrics: Sendable {
    let cpu: Counter
    let resident: Gauge
    let openFiles: Gauge
    /// The CPU seconds already added to the counter (it only goes up by the difference).
    private let counted = Mutex(0.0)

    init(registry: PrometheusCollectorRegistry) {
        cpu = registry.makeCounter(name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.")
        resident = registry.makeGauge(name: "process_resident_memory_bytes", help: "Resident memory size in bytes.")
        openFiles = registry.makeGauge(name: "process_open_fds", help: "Number of open file descriptors.")
        let start = registry.makeGauge(name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.")
        start.set(Date().timeIntervalSince1970 - ProcessInfo.processInfo.systemUptime + Self.startedAfterBoot())
    }

    func update() {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let seconds = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let delta = counted.withLock { counted in
            defer { counted = max(counted, seconds) }
            return seconds - counted
        }
        if delta > 0 { cpu.increment(by: delta) }
        let pages = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ").dropFirst().first.flatMap { Int64($0) }
        if let pages { resident.set(pages * Int64(sysconf(Int32(_SC_PAGESIZE)))) }
        if let files = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") { openFiles.set(Int64(files.count)) }
    }

    /// Seconds from the machine's boot to the process's start (/proc/self/stat's 22nd field, in ticks).
    static func startedAfterBoot() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Fields after the command: state is the 3rd field overall, starttime the 22nd.
        guard fields.count > 19, let ticks = Double(fields[19]) else { return 0 }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Two label values, the key a series made once is found by (a route and status, an operation
/// and outcome) without building a string per request.
struct LabelPair: Hashable, Sendable {
    let first: String, second: String
    init(_ first: String, _ second: String) { self.first = first; self.second = second }
}

extension Mutex {
    /// The series kept under `key`, made by `make` the first time it is asked for (the registry's
    /// own lookup takes a lock and hashes the labels on every call).
    fileprivate borrowing func series<Key: Hashable & Sendable, Series: Sendable>(_ key: Key, _ make: () -> Series) -> Series
    where Value == [Key: Series] {
        withLock { series in
            if let found = series[key] { return found }
            let made = make()
            series[key] = made
            return made
        }
    }
}
