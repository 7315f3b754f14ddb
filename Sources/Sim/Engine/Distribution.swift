import Foundation

/// A non-negative random duration. Sampled values are nanoseconds.
public enum Distribution: Sendable, Hashable {
    case constant(Double)
    case uniform(min: Double, max: Double)
    case exponential(mean: Double)
    /// Normal, truncated at 0 (negative draws are drawn again).
    case normal(mean: Double, sd: Double)
    /// Lognormal with the given mean and standard deviation (of the distribution itself).
    case lognormal(mean: Double, sd: Double)
    /// Pareto (type I) with minimum `scale` and tail index `shape`.
    case pareto(scale: Double, shape: Double)
    /// Draws from a table: `values` with cumulative weights `cumulative` (last is 1).
    case empirical(values: [Double], cumulative: [Double])
    indirect case mixture(weights: [Double], components: [Distribution])

    /// All parameters are nanoseconds (`Double`, so fractions of a nanosecond average out).
    public static func constantMs(_ ms: Double) -> Distribution { .constant(ms * 1e6) }
    public static func exponentialMs(_ ms: Double) -> Distribution { .exponential(mean: ms * 1e6) }

    /// The mean, in nanoseconds (for M/M/c checks, utilisation estimates and reports).
    public var mean: Double {
        switch self {
        case .constant(let v): return v
        case .uniform(let a, let b): return (a + b) / 2
        case .exponential(let m): return m
        case .normal(let m, let s):
            guard s > 0 else { return max(0, m) }
            let a = -m / s  // mean of the normal truncated below at 0
            let pdf = exp(-a * a / 2) / (2 * Double.pi).squareRoot()
            let tail = 0.5 * erfc(a / 2.0.squareRoot())
            return m + s * pdf / tail
        case .lognormal(let m, _): return m
        case .pareto(let scale, let shape): return shape > 1 ? shape * scale / (shape - 1) : .infinity
        case .empirical(let values, let cumulative):
            var previous = 0.0, total = 0.0
            for (v, c) in zip(values, cumulative) { total += v * (c - previous); previous = c }
            return total
        case .mixture(let weights, let components):
            return zip(weights, components).reduce(0) { $0 + $1.0 * $1.1.mean }
        }
    }

    /// The same shape with every duration multiplied by `factor` (a calibration's CPU scale).
    public func scaled(by factor: Double) -> Distribution {
        switch self {
        case .constant(let v): .constant(v * factor)
        case .uniform(let a, let b): .uniform(min: a * factor, max: b * factor)
        case .exponential(let m): .exponential(mean: m * factor)
        case .normal(let m, let s): .normal(mean: m * factor, sd: s * factor)
        case .lognormal(let m, let s): .lognormal(mean: m * factor, sd: s * factor)
        case .pareto(let scale, let shape): .pareto(scale: scale * factor, shape: shape)
        case .empirical(let values, let cumulative): .empirical(values: values.map { $0 * factor }, cumulative: cumulative)
        case .mixture(let weights, let components): .mixture(weights: weights, components: components.map { $0.scaled(by: factor) })
        }
    }

    /// One draw, in whole nanoseconds.
    public func sample(_ random: inout RandomStream) -> Int64 {
        Int64(sampleDouble(&random) + 0.5)  // draws are never negative: this rounds
    }

    public func sampleDouble(_ random: inout RandomStream) -> Double {
        switch self {
        case .constant(let v): return v
        case .exponential(let m): return m * Ziggurat.exponential(&random)
        case .uniform(let a, let b): return a + (b - a) * random.unit()
        case .normal(let m, let s):
            for _ in 0..<64 {
                let x = m + s * Self.standardNormal(&random)
                if x >= 0 { return x }
            }
            return 0
        case .lognormal(let m, let s):
            let sigma2 = log(1 + (s * s) / (m * m))
            let mu = log(m) - sigma2 / 2
            return exp(mu + sigma2.squareRoot() * Self.standardNormal(&random))
        case .pareto(let scale, let shape):
            return scale / pow(random.openUnit(), 1 / shape)
        case .empirical(let values, let cumulative):
            return values[Self.index(of: random.unit(), in: cumulative)]
        case .mixture(let weights, let components):
            var u = random.unit()
            for (w, c) in zip(weights, components) {
                if u < w { return c.sampleDouble(&random) }
                u -= w
            }
            return components[components.count - 1].sampleDouble(&random)
        }
    }

    static func standardNormal(_ random: inout RandomStream) -> Double {
        Ziggurat.normal(&random)
    }

    /// The first index whose cumulative weight exceeds `u`.
    static func index(of u: Double, in cumulative: [Double]) -> Int {
        var low = 0, high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// An empirical distribution from weighted values (weights need not add to 1).
    public static func empirical(values: [Double], weights: [Double]) -> Distribution {
        let total = weights.reduce(0, +)
        var running = 0.0
        let cumulative = weights.map { running += $0 / total; return running }
        return .empirical(values: values, cumulative: cumulative.dropLast() + [1])
    }
}
