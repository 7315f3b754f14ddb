/// Confidence intervals over replications of one scenario.
public enum Replications {
    /// 95% intervals of the headline metrics, keyed as `TableReport` looks them up.
    public static func intervals(_ runs: [RunResult]) -> [String: ConfidenceInterval] {
        var values: [String: [Double]] = [:]
        for r in runs {
            values["offeredRps", default: []].append(r.throughput.offeredRps)
            values["achievedRps", default: []].append(r.throughput.achievedRps)
            values["errorRate", default: []].append(r.rates.errorRate * 100)
            values["timeoutRate", default: []].append(r.rates.timeoutRate * 100)
            for op in r.operations + [r.overall] {
                values["\(op.name).p50Ms", default: []].append(op.p50Ms)
                values["\(op.name).p95Ms", default: []].append(op.p95Ms)
                values["\(op.name).p99Ms", default: []].append(op.p99Ms)
            }
        }
        return values.mapValues(ConfidenceInterval.init)
    }
}
