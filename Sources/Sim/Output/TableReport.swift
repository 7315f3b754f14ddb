import Foundation

/// The readable summary `flashdeal simulate` prints.
public enum TableReport {
    public static func render(_ r: RunResult, intervals: [String: ConfidenceInterval] = [:]) -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
        func ci(_ key: String, _ value: Double, _ digits: Int = 1) -> String {
            guard let c = intervals[key] else { return f(value, digits) }
            return "\(f(c.mean, digits)) ±\(f(c.halfWidth, digits))"
        }
        line("Scenario \(r.scenario)  seed \(r.seed)  arrivals \(r.arrivalProcess)  hash \(r.scenarioHash)")
        line("Simulated \(f(r.simulatedSeconds)) s (arrivals for \(f(r.arrivalSeconds)) s), \(r.throughput.iterations) visits, \(r.throughput.requests) requests")
        line("Throughput: offered \(ci("offeredRps", r.throughput.offeredRps)) rps (peak \(f(r.throughput.peakOfferedRps, 0))), achieved \(ci("achievedRps", r.throughput.achievedRps)) rps")
        line()
        let header = ["operation", "requests", "ok", "business", "errors", "shed", "timeouts", "p50 ms", "p95 ms", "p99 ms", "max ms"]
        var rows = [header]
        for op in r.operations + [r.overall] where op.requests > 0 {
            rows.append([
                op.name, "\(op.requests)", "\(op.ok)", "\(op.business)", "\(op.errors)", "\(op.shed)", "\(op.timeouts)",
                ci("\(op.name).p50Ms", op.p50Ms, 2), ci("\(op.name).p95Ms", op.p95Ms, 2), ci("\(op.name).p99Ms", op.p99Ms, 2), f(op.maxMs, 1),
            ])
        }
        out += table(rows)
        line("Rates: errors \(ci("errorRate", r.rates.errorRate * 100, 3))%  shed \(f(r.rates.shedRate * 100, 3))%  time-outs \(ci("timeoutRate", r.rates.timeoutRate * 100, 3))%")
        line()
        let o = r.orders
        line("Orders: accepted \(o.accepted), paid \(o.paid), expired \(o.expired), cancelled \(o.cancelled), refunded \(o.refunded), declined \(o.declined), late payments refunded \(o.latePaymentsRefunded), retried duplicates \(o.duplicates)")
        line("Stock: \(o.soldUnits) of \(o.totalUnits) units sold, sold out at \(o.soldOutAtSeconds.map { f($0, 2) + " s" } ?? "never"), oversold \(o.oversoldUnits), conservation \(o.conservationHolds ? "holds" : "BROKEN"), per-user limit \(o.perUserLimitHolds ? "holds" : "BROKEN"), open reservations at end \(o.unresolvedReservations)")
        line()
        var res = [["resource", "servers", "utilisation", "peak (5 s)", "mean queue", "mean wait ms", "rejected", "timed out"]]
        for x in r.resources {
            res.append([x.name, "\(x.servers)", f(x.utilisation * 100, 1) + "%", f(x.peakUtilisation * 100, 1) + "%", f(x.meanQueueLength, 2), f(x.meanWaitMs, 3), "\(x.rejected)", "\(x.timedOut)"])
        }
        out += table(res)
        line("Bottleneck: \(r.bottleneck.resource): \(r.bottleneck.reason)")
        line("Kafka: produced \(r.kafka.produced), consumed \(r.kafka.consumed), max lag \(r.kafka.maxLag) at \(f(r.kafka.maxLagAtSeconds, 1)) s, drained \(f(r.kafka.drainSeconds, 2)) s after the last produce")
        for fault in r.faults ?? [] {
            line("Fault: \(fault.component) down \(f(fault.startSeconds, 1))–\(f(fault.startSeconds + fault.durationSeconds, 1)) s: \(fault.errors) of \(fault.answered) answers in it failed, outbox peak \(fault.outboxPeak), Kafka lag peak \(fault.kafkaLagPeak), drained \(fault.drainedAfterSeconds.map { f($0, 1) + " s after it ended" } ?? "not before the run ended")")
        }
        line("Replicas: \(r.replicas.initial) at start, at most \(r.replicas.max), \(r.replicas.final) at the end; first scale-up \(r.replicas.firstScaleUpAtSeconds.map { "at " + f($0, 0) + " s" } ?? "never")")
        line("Replicas over time (ready, per 10 s): \(stride(from: 0, to: r.series.readyReplicas.count, by: 10).map { String(Int(r.series.readyReplicas[$0])) }.joined(separator: " "))")
        if let t = r.timing {
            line("Engine: \(r.eventsProcessed) events in \(f(t.wallSeconds, 3)) wall s (\(f(t.eventsPerSecond / 1e6, 2))M events/s)")
        } else {
            line("Engine: \(r.eventsProcessed) events")
        }
        return out
    }

    /// Left-aligned first column, right-aligned numbers.
    public static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}

/// A mean with the half-width of its 95% confidence interval (Student's t).
public struct ConfidenceInterval: Codable, Sendable, Hashable {
    public var mean: Double
    public var halfWidth: Double
    public var n: Int

    public init(_ values: [Double]) {
        (mean, n) = (Self.moments(values).mean, values.count)
        halfWidth = n > 1 ? Self.t975(n - 1) * (Self.moments(values).variance / Double(n)).squareRoot() : 0
    }

    /// The sample mean and (n − 1) variance.
    static func moments(_ values: [Double]) -> (mean: Double, variance: Double) {
        let m = values.reduce(0, +) / Double(max(1, values.count))
        guard values.count > 1 else { return (m, 0) }
        return (m, values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1))
    }

    public var low: Double { mean - halfWidth }
    public var high: Double { mean + halfWidth }
    public func contains(_ x: Double) -> Bool { x >= low && x <= high }

    /// The 97.5% quantile of Student's t with `df` degrees of freedom.
    static func t975(_ df: Int) -> Double {
        let table: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                               2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        if df <= table.count { return table[df - 1] }
        return 1.96 + 2.4 / Double(df)
    }
}

/// The 95% prediction interval for one more observation of a quantity of which `values` are
/// independent observations: mean ± t(0.975, n−1) · s · √(1 + 1/n). A measured value inside it is
/// what the replications predicted; with one value the interval is that value.
public struct PredictionInterval: Codable, Sendable, Hashable {
    public var mean: Double
    public var halfWidth: Double
    public var n: Int

    public init(_ values: [Double]) {
        let (m, variance) = ConfidenceInterval.moments(values)
        (mean, n) = (m, values.count)
        halfWidth = n > 1 ? ConfidenceInterval.t975(n - 1) * (variance * (1 + 1 / Double(n))).squareRoot() : 0
    }

    public var low: Double { mean - halfWidth }
    public var high: Double { mean + halfWidth }
    public func contains(_ x: Double) -> Bool { x >= low && x <= high }
}
