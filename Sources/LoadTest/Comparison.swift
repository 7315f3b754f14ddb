public import Sim
import Foundation

/// Predicted against measured for one scenario, as the performance literature compares them: each
/// metric's predicted 95% prediction interval over the simulator's replications, the measured mean
/// over the load-test repeats, the relative error of the prediction, and whether the measurement
/// lies inside the interval; the same for P95 in every 5-second window. Where a metric misses by
/// more than `tolerance`, `suspects` names the model component behind it.
public struct Comparison: Sendable {
    public struct Row: Sendable {
        public var metric: String
        public var predicted: PredictionInterval
        public var measured: ConfidenceInterval
        /// (predicted − measured) / measured.
        public var relativeError: Double?
        /// Measured repeats inside the predicted interval.
        public var inside: Int
        public var component: String
    }

    public var scenario: String
    public var rows: [Row]
    /// Per 5-second window: the predicted interval and the measured mean of P95.
    public var windows: [(predicted: PredictionInterval, measured: Double)]
    public var predicted: [RunResult]
    public var measured: [RunResult]
    public var tolerance: Double

    public init(predicted: [RunResult], measured: [RunResult], tolerance: Double = 0.15) {
        self.predicted = predicted
        self.measured = measured
        self.tolerance = tolerance
        scenario = predicted.first?.scenario ?? measured.first?.scenario ?? ""
        var rows: [Row] = []
        func add(_ metric: String, _ component: String, _ value: (RunResult) -> Double?) {
            let p = predicted.compactMap(value), m = measured.compactMap(value)
            guard !p.isEmpty, !m.isEmpty else { return }
            let interval = PredictionInterval(p), mean = ConfidenceInterval(m)
            rows.append(Row(
                metric: metric, predicted: interval, measured: mean,
                relativeError: mean.mean != 0 ? (interval.mean - mean.mean) / mean.mean : nil,
                inside: m.filter { interval.n > 1 ? interval.contains($0) : abs($0 - interval.mean) <= tolerance * max(abs($0), 1e-9) }.count,
                component: component))
        }
        add("throughput (rps)", "arrivals and journey", { $0.throughput.achievedRps })
        add("error rate (%)", "capacity: queues, time-outs", { $0.rates.errorRate * 100 })
        add("request-path cores", "the calibration: the CPU per request of the server and of the processes beside it (http.cpu, demand, cpuByRate)", { $0.cores?.requestPath })
        add("server cores", "the calibration: the server's CPU per request (http.cpu, cpuByRate)", { $0.cores?.server })
        for (p, name) in [(50.0, "P50"), (95, "P95"), (99, "P99")] {
            add("all \(name) (ms)", "the whole request path", { r in p == 50 ? r.overall.p50Ms : p == 95 ? r.overall.p95Ms : r.overall.p99Ms })
        }
        let components = [
            "listDeals": "http.cpu (listDeals) and the Redis read", "viewDeal": "http.cpu (viewDeal) and the Redis read",
            "placeOrder": "http.cpu (placeOrder) and the Redis gate", "payOrder": "the payment provider and the Redis gate",
            "cancelOrder": "http.cpu (cancelOrder), the Redis gate and, for a refund, the payment provider", "orderStatus": "http.cpu (orderStatus) and the Redis read",
        ]
        for op in Scenario.Operation.allCases.map(\.name) {
            add("\(op) P95 (ms)", components[op] ?? op) { r in r.operations.first { $0.name == op && $0.requests > 0 }?.p95Ms }
        }
        add("orders accepted", "journey and stock", { Double($0.orders.accepted) })
        add("sold out at (s)", "journey and stock", { $0.orders.soldOutAtSeconds })
        self.rows = rows
        let count = min(predicted.map { $0.series.p95Ms5s?.count ?? 0 }.min() ?? 0, measured.map { $0.series.p95Ms5s?.count ?? 0 }.min() ?? 0)
        windows = (0..<count).map { w in
            let p = predicted.compactMap { $0.series.p95Ms5s?[w] }, m = measured.compactMap { $0.series.p95Ms5s?[w] }
            return (PredictionInterval(p), m.reduce(0, +) / Double(max(1, m.count)))
        }
    }

    /// The rows whose prediction misses by more than the tolerance.
    public var suspects: [Row] { rows.filter { abs($0.relativeError ?? 0) > tolerance } }

    /// Windows whose measured P95 lies inside the predicted interval.
    public var windowsInside: Int { windows.filter { $0.predicted.contains($0.measured) || ($0.predicted.n < 2 && abs($0.measured - $0.predicted.mean) <= tolerance * $0.measured) }.count }

    public func table() -> String {
        func f(_ x: Double) -> String { String(format: abs(x) >= 100 ? "%.0f" : "%.2f", x) }
        var lines = [["metric", "predicted", "95% prediction interval", "measured", "error", "inside"]]
        for r in rows {
            lines.append([
                r.metric, f(r.predicted.mean), "[\(f(r.predicted.low)), \(f(r.predicted.high))]",
                r.measured.n > 1 ? "\(f(r.measured.mean)) ±\(f(r.measured.halfWidth))" : f(r.measured.mean),
                r.relativeError.map { String(format: "%+.1f%%", $0 * 100) } ?? "n/a", "\(r.inside)/\(r.measured.n)",
            ])
        }
        let sources = Set(measured.map { $0.codeVersion.hasSuffix("+prometheus") ? "Prometheus" : "k6" }).sorted().joined(separator: " and ")
        var out = "Predicted (\(predicted.count) replications) against measured (\(measured.count) \(sources) \(measured.count == 1 ? "run" : "runs")): \(scenario)\n"
        out += TableReport.table(lines)
        out += "P95 per 5-second window: \(windowsInside) of \(windows.count) measured windows inside the predicted interval\n"
        let off = suspects
        out += off.isEmpty
            ? "Every metric within ±\(Int(tolerance * 100))%.\n"
            : "Off by more than ±\(Int(tolerance * 100))%: " + off.map { "\($0.metric) → \($0.component)" }.joined(separator: "; ") + "\n"
        return out
    }

    /// A self-contained page: the table and both runs' series on the same charts (predicted
    /// dashed, measured solid).
    public func html() -> String {
        func mean(_ runs: [RunResult], _ pick: (RunResult) -> [Double]) -> [Double] {
            let n = runs.map { pick($0).count }.min() ?? 0
            return (0..<n).map { i in runs.map { pick($0)[i] }.reduce(0, +) / Double(runs.count) }
        }
        let charts = [
            SVGChart(title: "Throughput", unit: "requests/s", lines: [
                .init("predicted", mean(predicted) { $0.series.achievedRps }, dashed: true), .init("measured", mean(measured) { $0.series.achievedRps }),
            ]),
            SVGChart(title: "P95 per second", unit: "ms", lines: [
                .init("predicted", mean(predicted) { $0.series.p95Ms }, dashed: true), .init("measured", mean(measured) { $0.series.p95Ms }),
            ]),
            SVGChart(title: "P95 per 5-second window", unit: "ms", lines: [
                .init("predicted low", windows.map(\.predicted.low), dashed: true), .init("predicted high", windows.map(\.predicted.high), dashed: true),
                .init("measured", windows.map(\.measured)),
            ]),
        ]
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>Flash Deal: predicted against measured</title>
            <style>body{font-family:sans-serif;max-width:980px;margin:2em auto}pre{background:#f6f6f6;padding:1em}</style></head><body>
            <h1>Predicted against measured: \(SVGChart.escape(scenario))</h1>
            <pre>\(SVGChart.escape(table()))</pre>
            \(charts.map { $0.render() }.joined(separator: "\n"))
            </body></html>
            """
    }
}
