/// The arrival times of a ramping-arrival-rate profile (k6 style): the rate moves linearly from
/// each stage's start rate to its target. Arrival k happens where the cumulative expected count
/// reaches the k-th mark: marks 1, 2, 3, ... for evenly spaced starts, or marks with unit
/// exponential gaps for a Poisson stream (time rescaling of a non-homogeneous Poisson process).
public struct ArrivalSchedule {
    let stages: [(start: Int64, duration: Int64, from: Double, to: Double, cumulativeBefore: Double)]
    public let end: Int64
    public let expectedTotal: Double

    public init(startRate: Double, stages: [Scenario.Stage]) {
        var list: [(Int64, Int64, Double, Double, Double)] = []
        var t: Int64 = 0, rate = startRate, cumulative = 0.0
        for stage in stages {
            list.append((t, stage.duration, rate, stage.target, cumulative))
            cumulative += (rate + stage.target) / 2 * Double(stage.duration) / 1e9
            t += stage.duration
            rate = stage.target
        }
        self.stages = list
        end = t
        expectedTotal = cumulative
    }

    /// The time at which the cumulative expected count reaches `mark`, or `nil` past the end.
    public func time(atCumulative mark: Double) -> Int64? {
        guard mark <= expectedTotal else { return nil }
        for stage in stages.reversed() where stage.cumulativeBefore <= mark {
            let x = mark - stage.cumulativeBefore
            let d = Double(stage.duration) / 1e9
            let a = stage.from, slope = (stage.to - stage.from) / d
            var tau: Double
            if abs(slope) < 1e-12 {
                guard a > 0 else { continue }
                tau = x / a
            } else {
                // a·τ + slope·τ²/2 = x
                let disc = a * a + 2 * slope * x
                tau = (-a + max(0, disc).squareRoot()) / slope
            }
            tau = min(max(tau, 0), d)
            return stage.start + Int64((tau * 1e9).rounded())
        }
        return nil
    }

    /// The rate (per second) at time `t`.
    public func rate(at t: Int64) -> Double {
        for stage in stages where t >= stage.start && t < stage.start + stage.duration {
            let f = Double(t - stage.start) / Double(stage.duration)
            return stage.from + (stage.to - stage.from) * f
        }
        return 0
    }
}
