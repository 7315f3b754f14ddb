public import Sim

/// The saturation point of a mix on both sides: the highest rate, stepping up from `from` by
/// `step`, at which the level holds (P95 ≤ `p95BarMs` and errors ≤ `errorBar`), predicted by the
/// simulator and measured by k6; each side stops at its first step that fails. A level is the
/// scenario with its stages' visit rate set for the step's requests a second.
public struct SaturationSearch: Sendable {
    public struct Step: Sendable, Hashable {
        public var rps: Double
        public var p95Ms: Double
        public var errorRate: Double
        public var achievedRps: Double
        public var holds: Bool
    }

    public struct Side: Sendable, Hashable {
        public var steps: [Step]

        public init(steps: [Step] = []) { self.steps = steps }
        /// The highest step that held, nil when the first did not.
        public var saturation: Double? { steps.last { $0.holds }?.rps }
    }

    public var scenario: Scenario
    public var rates: [Double]
    public var p95BarMs: Double
    public var errorBar: Double

    public init(scenario: Scenario, from: Double, step: Double, to: Double, p95BarMs: Double = 150, errorBar: Double = 0.005) {
        self.scenario = scenario
        rates = Array(stride(from: from, through: to, by: step))
        self.p95BarMs = p95BarMs
        self.errorBar = errorBar
    }

    /// The scenario at `rps` requests a second: every stage's visit rate scaled alike.
    public func level(_ rps: Double) -> Scenario {
        var level = scenario
        let factor = rps / max(1e-9, scenario.peakRequestsPerSecond)
        level.traffic.stages = level.traffic.stages.map { Scenario.Stage(duration: $0.duration, target: $0.target * factor) }
        level.traffic.startRate *= factor
        level.name = "\(scenario.name)@\(Int(rps))"
        return level
    }

    func step(_ rps: Double, _ runs: [RunResult]) -> Step {
        let n = Double(max(1, runs.count))
        let p95 = runs.map(\.overall.p95Ms).reduce(0, +) / n, errors = runs.map(\.rates.errorRate).reduce(0, +) / n
        return Step(rps: rps, p95Ms: p95, errorRate: errors, achievedRps: runs.map(\.throughput.achievedRps).reduce(0, +) / n,
                    holds: p95 <= p95BarMs && errors <= errorBar)
    }

    /// Steps up with `run` (the runs of one level) until a step fails.
    public func search(_ run: (Scenario) async throws -> [RunResult]) async rethrows -> Side {
        var steps: [Step] = []
        for rps in rates {
            steps.append(step(rps, try await run(level(rps))))
            if !steps.last!.holds { break }
        }
        return Side(steps: steps)
    }

    /// Markdown: each step on both sides, and the two saturation points.
    public static func markdown(name: String, predicted: Side, measured: Side, p95BarMs: Double) -> String {
        func f(_ x: Double) -> String { String(format: x >= 100 ? "%.0f" : "%.1f", x) }
        var out = "| \(name) rps | predicted P95 ms | predicted errors | measured P95 ms | measured errors | measured achieved rps |\n|---|---|---|---|---|---|\n"
        let rates = Set(predicted.steps.map(\.rps) + measured.steps.map(\.rps)).sorted()
        for rps in rates {
            let p = predicted.steps.first { $0.rps == rps }, m = measured.steps.first { $0.rps == rps }
            out += "| \(Int(rps)) | \(p.map { f($0.p95Ms) } ?? "–") | \(p.map { String(format: "%.2f%%", $0.errorRate * 100) } ?? "–") "
            out += "| \(m.map { f($0.p95Ms) } ?? "–") | \(m.map { String(format: "%.2f%%", $0.errorRate * 100) } ?? "–") | \(m.map { f($0.achievedRps) } ?? "–") |\n"
        }
        func point(_ side: Side) -> String { side.saturation.map { "\(Int($0)) rps" } ?? "below the first step" }
        out += "\nSaturation (the highest step holding P95 ≤ \(Int(p95BarMs)) ms and errors ≤ 0.5%): predicted \(point(predicted))"
        out += measured.steps.isEmpty ? " (not measured)" : ", measured \(point(measured))"
        if let p = predicted.saturation, let m = measured.saturation {
            let error = (p - m) / m
            out += String(format: " (%+.0f%%, %@ the ±10%% target).\n", error * 100, abs(error) <= 0.10 ? "within" : "outside")
        } else {
            out += ".\n"
        }
        return out
    }
}
