public import Foundation

/// `flashdeal plan-scaling`: what the HorizontalPodAutoscaler does to a sale, and the floor and
/// pre-scaling time that keep the SLO through its spike.
///
/// The HPA reacts to load it has seen: a sync period, then pods that take `podStartup` to be
/// ready, so a sale that opens at full rate runs tens of seconds on the replicas it had. The plan
/// simulates the sale with the HPA as deployed, then looks for the fewest replicas which, raised
/// as the HPA's floor at a lead time before the first deal starts (a CronJob or KEDA's cron scaler
/// patching `minReplicas`), keep it: the P95 of every 5-second window from the start to the end
/// of arrivals within the SLO, and errors plus time-outs within `maxErrorRate`. The lead is one
/// sync period, the pod start-up and 30 s for scheduling and image pulls. The search is a binary
/// search between the HPA's floor and its ceiling (more replicas never hold the SLO less).
public struct ScalingPlan: Sendable {
    public struct Trial: Sendable {
        /// The floor from `preScaleAt` (the HPA's own `minReplicas` when not pre-scaled).
        public var minReplicas: Int
        public var preScaleAt: Double?
        public var result: RunResult
        /// The worst P95 of a 5-second window between the sale's start and the end of arrivals.
        public var worstWindowP95Ms: Double
        public var holds: Bool
        /// The scenario that ran (with its pre-scaling), for the results store.
        public var scenario: Scenario
    }

    public var saleStartSeconds: Double
    /// How long before the start the floor must rise: one sync period, the pod start-up and 30 s.
    public var leadSeconds: Double
    /// When the trials raised it: the start less the lead, or the scenario's beginning (where the
    /// pods start ready) when the sale opens sooner than that.
    public var preScaleAtSeconds: Double
    public var sloP95Ms: Double
    /// The sale with the HPA as the scenario (or the overlay) has it.
    public var asDeployed: Trial
    /// The fewest replicas pre-scaled that hold the SLO; nil when even the ceiling does not.
    public var recommended: Trial?
    /// Every pre-scaled trial simulated, by floor.
    public var trials: [Trial]
}

public enum ScalingPlanner {
    /// Plans the scenario `document` (JSON; relative files against `directory`), which must have
    /// `autoscaling`. Each trial is the document with `autoscaling.preScale` set, parsed anew, so
    /// its stored scenario (and hash) says what ran.
    public static func plan(document: Data, directory: String, sloP95Ms: Double, maxErrorRate: Double = 0.005) throws(ScenarioError) -> ScalingPlan {
        let scenario = try Scenario.parse(document, directory: directory)
        guard let root = try? JSONSerialization.jsonObject(with: document) as? [String: Any] else {
            throw ScenarioError(path: "$", message: "expected a JSON object")
        }
        guard let hpa = scenario.autoscaling else {
            throw ScenarioError(path: "$.autoscaling", message: "is required to plan scaling (give the HPA's spec, or --overlay)")
        }
        let start = scenario.deals.map(\.startsAt).min() ?? 0
        let lead = hpa.syncPeriod + hpa.podStartup + 30_000_000_000
        let preScaleAt = max(0, start - lead)

        func trial(_ floor: Int?) throws(ScenarioError) -> ScalingPlan.Trial {
            var s = scenario
            if let floor {
                let preScale: [String: Any] = ["atSeconds": Double(preScaleAt) / 1e9, "minReplicas": floor]
                let object = try Sweep.set(root, path: Sweep.components("autoscaling.preScale"), value: preScale, at: "$")
                s = try Scenario.parse(try! JSONSerialization.data(withJSONObject: object), directory: directory)
            }
            let result = Simulator.run(s)
            let windows = result.series.p95Ms5s ?? []
            let first = Int(start / 5_000_000_000), last = Int((result.arrivalSeconds / 5).rounded(.up))
            let worst = windows.indices.filter { $0 >= first && $0 < last }.map { windows[$0] }.max() ?? 0
            let errors = result.rates.errorRate + result.rates.timeoutRate
            return ScalingPlan.Trial(
                minReplicas: floor ?? hpa.minReplicas, preScaleAt: floor.map { _ in Double(preScaleAt) / 1e9 }, result: result,
                worstWindowP95Ms: worst, holds: worst <= sloP95Ms && errors <= maxErrorRate, scenario: s)
        }

        let deployed = try trial(nil)
        var trials: [ScalingPlan.Trial] = []
        // A floor of the HPA's own minReplicas is the sale as deployed.
        var low = hpa.minReplicas + 1, high = hpa.maxReplicas
        var best: ScalingPlan.Trial? = deployed.holds ? deployed : nil
        while !deployed.holds, low <= high {
            let mid = (low + high) / 2
            let t = try trial(mid)
            trials.append(t)
            if t.holds {
                best = t
                high = mid - 1
            } else {
                low = mid + 1
            }
        }
        return ScalingPlan(
            saleStartSeconds: Double(start) / 1e9, leadSeconds: Double(lead) / 1e9, preScaleAtSeconds: Double(preScaleAt) / 1e9,
            sloP95Ms: sloP95Ms, asDeployed: deployed,
            recommended: best, trials: trials.sorted { $0.minReplicas < $1.minReplicas })
    }
}
