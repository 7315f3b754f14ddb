public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
public import Sim

/// A measured run read from Prometheus instead of k6: what the shop's own `/metrics` recorded over
/// `[from, to]`, through Prometheus's HTTP API, so a production sale (no load generator) is
/// compared with its prediction. Totals are `increase` over the window (Prometheus extrapolates
/// them to its edges, so counts are rounded estimates); percentiles are `histogram_quantile` over
/// the operation histograms' buckets (1, 5, 10, 25, 50, 100, 150, 200, 500 ms, 1 s, 5 s: exact at
/// 150 ms, interpolated between); per-second series are range queries at a 1 s step over 15 s
/// rates, and the 5-second P95 windows over 15 s increases at a 5 s step. Requests answered from
/// the response cache count in the totals (`flashdeal_http_requests_total`) but not in the
/// percentiles or per-operation rows, whose histogram is of executed operations.
public struct PrometheusMeasurement: Sendable {
    public var url: String
    public var from: Date
    public var to: Date

    public init(url: String, from: Date, to: Date) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.from = from
        self.to = to
    }

    /// One sample of an instant query: its labels and value.
    public struct Sample: Sendable, Hashable {
        public var labels: [String: String]
        public var value: Double
        public init(labels: [String: String], value: Double) {
            self.labels = labels
            self.value = value
        }
    }

    /// Every query the measurement asks, by name: instant queries at `to` over the whole window
    /// (`D`), and range queries from `from` to `to` (1 s step unless named `…5s`).
    static func instantQueries(window d: String) -> [String: String] {
        let requests = #"flashdeal_http_requests_total{route="/graphql"}"#
        let operations = "flashdeal_graphql_operation_duration_seconds"
        var queries = [
            "requests": "sum(increase(\(requests)[\(d)]))",
            "errors": #"sum(increase(flashdeal_http_requests_total{route="/graphql",status=~"5.."}[\#(d)]))"#,
            "shed": "sum(increase(flashdeal_http_shed_requests_total[\(d)]))",
            "operationRequests": "sum by (operation) (increase(\(operations)_count[\(d)]))",
            "operationSeconds": "sum by (operation) (increase(\(operations)_sum[\(d)]))",
            "outcomes": "sum by (operation, outcome) (increase(flashdeal_business_outcomes_total[\(d)]))",
            "maxLag": "max_over_time(sum(flashdeal_writer_kafka_lag_messages)[\(d):5s])",
            "imbalance": "max(abs(flashdeal_stock_conservation_units))",
        ]
        for q in [50, 95, 99] {
            queries["p\(q)"] = "histogram_quantile(0.\(q), sum by (le) (increase(\(operations)_bucket[\(d)])))"
            queries["operationP\(q)"] = "histogram_quantile(0.\(q), sum by (le, operation) (increase(\(operations)_bucket[\(d)])))"
        }
        return queries
    }

    static let rangeQueries = [
        "rps": #"sum(rate(flashdeal_http_requests_total{route="/graphql"}[15s]))"#,
        "errors": #"sum(rate(flashdeal_http_requests_total{route="/graphql",status=~"5.."}[15s])) or vector(0)"#,
        "shed": "sum(rate(flashdeal_http_shed_requests_total[15s])) or vector(0)",
        "p50": "histogram_quantile(0.50, sum by (le) (rate(flashdeal_graphql_operation_duration_seconds_bucket[15s])))",
        "p95": "histogram_quantile(0.95, sum by (le) (rate(flashdeal_graphql_operation_duration_seconds_bucket[15s])))",
        "p99": "histogram_quantile(0.99, sum by (le) (rate(flashdeal_graphql_operation_duration_seconds_bucket[15s])))",
        "lag": "sum(flashdeal_writer_kafka_lag_messages) or vector(0)",
        "p95.5s": "histogram_quantile(0.95, sum by (le) (increase(flashdeal_graphql_operation_duration_seconds_bucket[15s])))",
    ]

    /// Asks every query and builds the run.
    public func run(scenario: Scenario) async throws -> RunResult {
        let seconds = max(1, Int(to.timeIntervalSince(from).rounded()))
        var instant: [String: [Sample]] = [:]
        for (name, query) in Self.instantQueries(window: "\(seconds)s") { instant[name] = try await self.instant(query) }
        var series: [String: [Double]] = [:]
        for (name, query) in Self.rangeQueries {
            series[name] = try await range(query, step: name.hasSuffix(".5s") ? 5 : 1, count: name.hasSuffix(".5s") ? (seconds + 4) / 5 : seconds)
        }
        return Self.result(scenario: scenario, seconds: Double(seconds), instant: instant, series: series, source: url)
    }

    /// The run the queries' answers make (pure: tests give recorded answers).
    public static func result(scenario: Scenario, seconds: Double, instant: [String: [Sample]], series: [String: [Double]], source: String) -> RunResult {
        func scalar(_ name: String) -> Double { (instant[name]?.first?.value).flatMap { $0.isFinite ? $0 : nil } ?? 0 }
        func byOperation(_ name: String) -> [String: Double] {
            Dictionary((instant[name] ?? []).compactMap { s in s.labels["operation"].map { ($0, s.value.isFinite ? s.value : 0) } }, uniquingKeysWith: +)
        }
        var outcomes: [String: [String: Int]] = [:]
        for sample in instant["outcomes"] ?? [] {
            guard let operation = sample.labels["operation"], let outcome = sample.labels["outcome"] else { continue }
            outcomes[operation, default: [:]][outcome, default: 0] += Int(sample.value.rounded())
        }
        func count(_ operation: String, _ outcome: String) -> Int { outcomes[operation]?[outcome] ?? 0 }
        let notBusiness: Set = ["OrderPlaced", "OrderPaid", "OrderCancelled", "OrderRefunded"]
        func business(_ operation: String) -> Int { (outcomes[operation] ?? [:]).filter { !notBusiness.contains($0.key) }.values.reduce(0, +) }
        let requests = Int(scalar("requests").rounded()), errors = Int(scalar("errors").rounded()), shed = Int(scalar("shed").rounded())
        let (counts, totals) = (byOperation("operationRequests"), byOperation("operationSeconds"))
        let (p50, p95, p99) = (byOperation("operationP50"), byOperation("operationP95"), byOperation("operationP99"))
        func ms(_ value: Double?) -> Double { (value ?? 0) * 1000 }
        let operations = Scenario.Operation.allCases.map(\.name).compactMap { name -> RunResult.OperationStats? in
            guard let n = counts[name], n > 0 else { return nil }
            let b = business(name)
            return .init(
                name: name, requests: Int(n.rounded()), ok: max(0, Int(n.rounded()) - b), business: b, errors: 0, shed: 0, timeouts: 0,
                p50Ms: ms(p50[name]), p95Ms: ms(p95[name]), p99Ms: ms(p99[name]), maxMs: ms(p99[name]), meanMs: ms((totals[name] ?? 0) / n))
        }
        let allBusiness = outcomes.keys.map(business).reduce(0, +)
        let rps = Double(requests) / seconds
        let lag = series["lag"] ?? []
        let zeros = [Double](repeating: 0, count: Int(seconds))
        return RunResult(
            scenario: scenario.name, scenarioHash: scenario.hash, seed: 0, codeVersion: "\(Simulator.codeVersion)+prometheus",
            arrivalProcess: "measured by Prometheus at \(source)", simulatedSeconds: seconds, arrivalSeconds: seconds,
            throughput: .init(iterations: 0, requests: requests, offeredRps: rps, achievedRps: rps, peakOfferedRps: (series["rps"] ?? []).max() ?? rps),
            overall: .init(
                name: "all", requests: requests, ok: max(0, requests - errors - allBusiness), business: allBusiness, errors: errors, shed: shed,
                timeouts: 0, p50Ms: ms(scalar("p50")), p95Ms: ms(scalar("p95")), p99Ms: ms(scalar("p99")), maxMs: ms(scalar("p99")),
                meanMs: ms(totals.values.reduce(0, +) / max(1, counts.values.reduce(0, +)))),
            operations: operations,
            rates: .init(
                errorRate: requests > 0 ? Double(errors) / Double(requests) : 0, shedRate: requests + shed > 0 ? Double(shed) / Double(requests + shed) : 0,
                timeoutRate: 0),
            orders: .init(
                accepted: count("placeOrder", "OrderPlaced"), paid: count("payOrder", "OrderPaid"),
                cancelled: count("cancelOrder", "OrderCancelled"), refunded: count("cancelOrder", "OrderRefunded"), expired: 0,
                declined: count("payOrder", "PaymentDeclined"), latePaymentsRefunded: 0, duplicates: 0, soldOutAnswers: count("placeOrder", "SoldOut"),
                limitAnswers: count("placeOrder", "PurchaseLimitExceeded"), totalUnits: 0, soldUnits: 0, oversoldUnits: 0,
                conservationHolds: scalar("imbalance") == 0, perUserLimitHolds: true, unresolvedReservations: 0),
            resources: [],
            bottleneck: .init(resource: "n/a", utilisation: 0, reason: "a measured run does not see inside the server"),
            kafka: .init(produced: 0, consumed: 0, maxLag: Int(scalar("maxLag").rounded()), maxLagAtSeconds: Double(lag.firstIndex(of: lag.max() ?? 0) ?? 0), drainSeconds: 0),
            replicas: .init(initial: 1, max: 1, final: 1, firstScaleUpAtSeconds: nil),
            series: .init(
                offeredRps: series["rps"] ?? zeros, achievedRps: series["rps"] ?? zeros, errors: series["errors"] ?? zeros, shed: series["shed"] ?? zeros,
                timeouts: zeros, p50Ms: (series["p50"] ?? zeros).map { $0 * 1000 }, p95Ms: (series["p95"] ?? zeros).map { $0 * 1000 },
                p99Ms: (series["p99"] ?? zeros).map { $0 * 1000 }, kafkaLag: lag, available: [], reserved: [], sold: [], readyReplicas: [],
                utilisation: [:], p95Ms5s: (series["p95.5s"] ?? []).map { $0 * 1000 }),
            eventsProcessed: 0, timing: nil)
    }

    func instant(_ query: String) async throws -> [Sample] {
        let data = try await get("query", ["query": query, "time": String(to.timeIntervalSince1970)])
        return (data["result"] as? [[String: Any]] ?? []).map { item in
            let value = (item["value"] as? [Any])?.last.flatMap { ($0 as? String).flatMap(Double.init) } ?? .nan
            return Sample(labels: item["metric"] as? [String: String] ?? [:], value: value)
        }
    }

    /// A range query's one series as `count` values, one a `step`; a missing point is 0 (no
    /// traffic yet, or NaN: no request in the window).
    func range(_ query: String, step: Int, count: Int) async throws -> [Double] {
        let start = from.timeIntervalSince1970 + Double(step)
        let data = try await get("query_range", [
            "query": query, "start": String(start), "end": String(start + Double(step * (count - 1))), "step": "\(step)s",
        ])
        var values = [Double](repeating: 0, count: count)
        for point in ((data["result"] as? [[String: Any]])?.first?["values"] as? [[Any]]) ?? [] {
            guard let time = point.first as? Double, let text = point.last as? String, let value = Double(text), value.isFinite else { continue }
            let index = Int(((time - start) / Double(step)).rounded())
            if values.indices.contains(index) { values[index] = value }
        }
        return values
    }

    func get(_ endpoint: String, _ parameters: [String: String]) async throws -> [String: Any] {
        var components = URLComponents(string: "\(url)/api/v1/\(endpoint)")
        components?.queryItems = parameters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        guard let request = components?.url else { throw LoadTestError("--prometheus \(url) is not a URL") }
        let body: Data
        do { (body, _) = try await URLSession.shared.data(from: request) } catch {
            throw LoadTestError("Prometheus at \(url) does not answer: \(error)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw LoadTestError("Prometheus at \(url) answered something that is not JSON")
        }
        guard json["status"] as? String == "success", let data = json["data"] as? [String: Any] else {
            throw LoadTestError("Prometheus at \(url) refused \(parameters["query"] ?? endpoint): \(json["error"] ?? json)")
        }
        return data
    }
}
