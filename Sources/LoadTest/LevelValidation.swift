public import Sim
public import Foundation

/// Calibration from one load level: the one factor on the HTTP tier's CPU time per operation that
/// makes the simulator's mean P95 at that level equal the measured mean P95. The measured
/// per-operation CPU (`flashdeal calibrate`) is taken sequentially in-process; under load the
/// server pays for HTTP parsing, thread switches and whatever shares its cores (k6, the
/// backends), which this factor absorbs. The other levels are then predicted with it.
public struct CPUScaleFit: Sendable, Hashable {
    public var scale: Double
    /// The measured mean P95 the fit aimed at, and the predicted mean P95 it reached (ms).
    public var targetP95Ms: Double
    public var predictedP95Ms: Double
    /// The target lay outside what any factor in `bounds` predicts; `scale` is the nearer bound.
    public var clamped: Bool

    public static let bounds = (low: 0.125, high: 16.0)

    public init(scale: Double, targetP95Ms: Double, predictedP95Ms: Double, clamped: Bool) {
        self.scale = scale
        self.targetP95Ms = targetP95Ms
        self.predictedP95Ms = predictedP95Ms
        self.clamped = clamped
    }

    /// Bisects log(scale) on the mean P95 of `replications` runs (common random numbers: the same
    /// seeds for every candidate, so the predicted P95 rises with the factor).
    public static func fit(_ scenario: Scenario, measuredP95Ms target: Double, replications: Int = 3, iterations: Int = 18) -> CPUScaleFit {
        func predicted(_ scale: Double) -> Double {
            let runs = Simulator.replicate(scenario.scalingCPU(by: scale), count: replications)
            return runs.map(\.overall.p95Ms).reduce(0, +) / Double(max(1, runs.count))
        }
        var low = log(bounds.low), high = log(bounds.high)
        let atLow = predicted(bounds.low), atHigh = predicted(bounds.high)
        if target <= atLow { return CPUScaleFit(scale: bounds.low, targetP95Ms: target, predictedP95Ms: atLow, clamped: true) }
        if target >= atHigh { return CPUScaleFit(scale: bounds.high, targetP95Ms: target, predictedP95Ms: atHigh, clamped: true) }
        var best = (scale: 1.0, p95: predicted(1))
        for _ in 0..<iterations {
            let middle = (low + high) / 2
            let p95 = predicted(exp(middle))
            if abs(p95 - target) < abs(best.p95 - target) { best = (exp(middle), p95) }
            if p95 < target { low = middle } else { high = middle }
        }
        return CPUScaleFit(scale: best.scale, targetP95Ms: target, predictedP95Ms: best.p95, clamped: false)
    }
}

extension Scenario {
    /// The scenario with every operation's CPU time multiplied by `factor`.
    public func scalingCPU(by factor: Double) -> Scenario {
        var scaled = self
        scaled.http.cpu = http.cpu.map { $0.scaled(by: factor) }
        return scaled
    }

    /// Visits (journeys) started per second at the peak of the stages.
    public var peakVisitsPerSecond: Double { max(traffic.startRate, traffic.stages.map(\.target).max() ?? 0) }

    /// The requests a visit makes on average: the list, the view, and with an order its polls and
    /// the payment.
    public var requestsPerVisit: Double {
        let j = traffic.journey
        return j.browseProbability + j.viewProbability + j.orderProbability * (1 + Double(j.polls) + j.payProbability)
    }

    /// The requests per second the scenario offers at its peak.
    public var peakRequestsPerSecond: Double { peakVisitsPerSecond * requestsPerVisit }

    /// A calibration file holding `http.cpu` scaled by `factor`, for scenario files to include
    /// after the calibration it was fitted on (`include` merges later files over earlier ones).
    public func cpuCalibrationJSON(scale factor: Double, description: String) throws -> Data {
        guard let resolved = try JSONSerialization.jsonObject(with: Data(canonicalJSON.utf8)) as? [String: Any],
            let http = resolved["http"] as? [String: Any], let cpu = http["cpu"] as? [String: Any]
        else { throw LoadTestError("\(name): the resolved scenario has no http.cpu to scale") }
        func scale(_ value: Any, key: String) -> Any {
            if let object = value as? [String: Any] {
                return Dictionary(uniqueKeysWithValues: object.map { ($0.key, scale($0.value, key: $0.key)) })
            }
            if let array = value as? [Any] { return array.map { scale($0, key: key) } }
            if key.hasSuffix("Ms"), let number = value as? Double { return (number * factor * 10_000).rounded() / 10_000 }
            return value
        }
        let file: [String: Any] = ["description": description, "http": ["cpu": scale(cpu, key: "cpu")]]
        return try JSONSerialization.data(withJSONObject: file, options: [.prettyPrinted, .sortedKeys])
    }
}

/// Predicted against measured at several load levels after calibrating on one: the table
/// `docs/validation.md` carries.
public struct LevelValidation: Sendable {
    public struct Level: Sendable {
        public var offeredRps: Double
        public var comparison: Comparison

        public init(offeredRps: Double, comparison: Comparison) {
            self.offeredRps = offeredRps
            self.comparison = comparison
        }
    }

    /// The CPU factor fitted on `calibratedOn`; nil: none, the CPU per request as measured.
    public var fit: CPUScaleFit?
    public var calibratedOn: String
    /// Model settings applied to every level's predictions (`PATH=VALUE`).
    public var settings: [String]
    public var levels: [Level]

    public init(fit: CPUScaleFit?, calibratedOn: String, settings: [String] = [], levels: [Level]) {
        self.fit = fit
        self.calibratedOn = calibratedOn
        self.settings = settings
        self.levels = levels
    }

    /// How far a prediction may be off (the simulator work's targets): P99 ±25%, throughput,
    /// error rate and the cores busy ±10%, everything else ±15%.
    public static func target(_ metric: String) -> Double {
        switch metric {
        case "all P99 (ms)": 0.25
        case "throughput (rps)", "error rate (%)", "request-path cores", "server cores": 0.10
        default: 0.15
        }
    }

    /// Whether a row is within its target: an error rate also when both sides are within the
    /// plan's 0.5% and a tenth of a point apart.
    static func holds(_ row: Comparison.Row) -> Bool {
        if row.metric == "error rate (%)" {
            if row.predicted.mean <= 0.5, row.measured.mean <= 0.5, abs(row.predicted.mean - row.measured.mean) <= 0.1 { return true }
            return row.relativeError.map { abs($0) <= target(row.metric) } ?? false
        }
        guard let error = row.relativeError else { return true }
        return abs(error) <= target(row.metric)
    }

    /// The table's metrics; an operation the level does not send has no row.
    static let metrics = [
        "throughput (rps)", "error rate (%)", "request-path cores", "server cores", "all P50 (ms)", "all P95 (ms)", "all P99 (ms)", "placeOrder P95 (ms)", "viewDeal P95 (ms)",
        "payOrder P95 (ms)", "cancelOrder P95 (ms)",
    ]

    /// Markdown: one row per level and metric, the fit, and per level the components whose
    /// prediction missed by more than the tolerance.
    public func markdown(date: String, machine: String) -> String {
        func f(_ x: Double) -> String {
            String(format: abs(x) >= 100 ? "%.0f" : abs(x) >= 10 ? "%.1f" : "%.2f", x)
        }
        var out = "Measured \(date) on \(machine). "
        if !settings.isEmpty { out += "Model settings: " + settings.map { "`\($0)`" }.joined(separator: ", ") + ". " }
        if let fit {
            out += "CPU per operation scaled by \(String(format: "%.2f", fit.scale)) "
            out += "(fitted on \(calibratedOn): measured P95 \(f(fit.targetP95Ms)) ms, predicted \(f(fit.predictedP95Ms)) ms"
            out += fit.clamped ? "; the target lay outside the factors tried, so the nearer bound is used).\n" : ").\n"
        } else {
            out += "No fitted factor: the CPU per request as `flashdeal calibrate` measured it under load.\n"
        }
        out += "\n| level | metric | predicted | 95% PI | measured (mean ± 95% CI) | error | target | repeats inside |\n|---|---|---|---|---|---|---|---|\n"
        for level in levels {
            for metric in Self.metrics {
                guard let row = level.comparison.rows.first(where: { $0.metric == metric }) else { continue }
                let measured = row.measured.n > 1 ? "\(f(row.measured.mean)) ± \(f(row.measured.halfWidth))" : f(row.measured.mean)
                let error = row.relativeError.map { String(format: "%+.0f%%", $0 * 100) } ?? "n/a"
                let target = "±\(Int(Self.target(metric) * 100))% \(Self.holds(row) ? "✓" : "✗")"
                out += "| \(f(level.offeredRps)) rps | \(metric) | \(f(row.predicted.mean)) | \(f(row.predicted.low))–\(f(row.predicted.high)) | \(measured) | \(error) | \(target) | \(row.inside)/\(row.measured.n) |\n"
            }
        }
        out += "\n"
        for level in levels {
            let c = level.comparison
            let missed = c.rows.filter { Self.metrics.contains($0.metric) && !Self.holds($0) }
            let verdict = missed.isEmpty ? "every metric within its target" : "\(missed.count) metric\(missed.count == 1 ? "" : "s") outside the target"
            out += "- \(f(level.offeredRps)) rps (\(c.measured.count) k6 runs, \(c.predicted.count) replications): \(verdict); "
            out += "\(c.windowsInside) of \(c.windows.count) five-second P95 windows inside the interval"
            out += missed.isEmpty ? ".\n" : ": " + missed.map { row in
                "\(row.metric) \(String(format: "%+.0f%%", (row.relativeError ?? 0) * 100)) → \(row.component)"
            }.joined(separator: "; ") + ".\n"
        }
        return out
    }

    /// Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `document`
    /// (NAME: `section`).
    public static func splice(_ text: String, into document: String, section: String = "levels") throws -> String {
        let begin = "<!-- \(section):begin -->", end = "<!-- \(section):end -->"
        guard let b = document.range(of: begin), let e = document.range(of: end), b.upperBound <= e.lowerBound else {
            throw LoadTestError("the document has no \(begin) … \(end) section to replace")
        }
        return document.replacingCharacters(in: b.upperBound..<e.lowerBound, with: "\n" + text + "\n")
    }
}
