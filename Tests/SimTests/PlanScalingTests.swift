import Foundation
import KubernetesPlan
import ResultsStore
import Sim
import Testing

/// `flashdeal plan-scaling`: the HPA read from the rendered overlay, the sale simulated under it,
/// and the pre-scaling that keeps the SLO where the HPA alone does not.
@Suite struct PlanScalingTests {
    static let root = Fixtures.root.path

    @Test func readsTheProdOverlaysAutoscaler() throws {
        let overlay = try KubernetesOverlay.load("\(Self.root)/k8s/overlays/prod")
        // The prod overlay's HPA scales the canary's Rollout, whose pods are the Deployment's.
        #expect(overlay.minReplicas == 4 && overlay.maxReplicas == 40 && overlay.coresPerReplica == 1)
        #expect(overlay.targetCPUUtilization == 0.6 && overlay.targetInFlight == 128)
        #expect(overlay.scaleUpStabilizationSeconds == 0 && overlay.scaleDownStabilizationSeconds == 300)
        #expect(overlay.scaleUpPolicies == [.init(type: "Pods", value: 4, periodSeconds: 15), .init(type: "Percent", value: 100, periodSeconds: 15)])
        #expect(overlay.scaleDownPolicies == [.init(type: "Percent", value: 10, periodSeconds: 60)])
        let scenario = try Scenario.parse(try overlay.applied(to: Data(contentsOf: Fixtures.root.appendingPathComponent("experiments/flash-spike.json"))))
        #expect(scenario.http.replicas == 4 && scenario.autoscaling?.maxReplicas == 40 && scenario.autoscaling?.inFlightTarget == 128)
        #expect(scenario.autoscaling?.scaleDownPolicies == [Scenario.ScalePolicy(kind: .percent, value: 10, period: 60_000_000_000)])
    }

    @Test func refusesWhatItCannotModel() throws {
        func hpa(_ metrics: String, cpu: String = "\"1\"") throws -> [[String: Any]] {
            let json = """
                [{"kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "flashdeal-api"},
                  "minReplicas": 2, "maxReplicas": 5, "metrics": \(metrics)}},
                 {"kind": "Deployment", "metadata": {"name": "flashdeal-api"}, "spec": {"template": {"spec": {"containers": [
                  {"name": "flashdeal", "resources": {"requests": {"cpu": \(cpu)}}}]}}}}]
                """
            return try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [[String: Any]]
        }
        let cpu = #"[{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]"#
        #expect(try KubernetesOverlay(documents: hpa(cpu), source: "t").targetCPUUtilization == 0.7)
        let memory = #"[{"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 70}}}]"#
        #expect { try KubernetesOverlay(documents: hpa(memory), source: "t") } throws: { "\($0)".contains("spec.metrics[0] is not one the simulator models") }
        #expect { try KubernetesOverlay(documents: hpa(cpu, cpu: "\"500m\""), source: "t") } throws: { "\($0)".contains("request 0.5 cores") }
        #expect { try KubernetesOverlay(documents: hpa(cpu, cpu: "null"), source: "t") } throws: { "\($0)".contains("no CPU request") }
        #expect { try KubernetesOverlay(documents: [], source: "t") } throws: { "\($0)".contains("no HorizontalPodAutoscaler scaling flashdeal-api") }
    }

    @Test func scaleDownPoliciesLimitHowFastPodsGo() {
        let tenPercentAMinute = [Scenario.ScalePolicy(kind: .percent, value: 10, period: 60_000_000_000)]
        #expect(HPAPolicy.scaleDownLimit(current: 20, policies: tenPercentAMinute, recent: [], now: 0) == 18)
        // Two already removed within the minute: the period began at 20, so none more yet.
        #expect(HPAPolicy.scaleDownLimit(current: 18, policies: tenPercentAMinute, recent: [(time: -30_000_000_000, replicas: 2)], now: 0) == 18)
        let pods = [Scenario.ScalePolicy(kind: .pods, value: 1, period: 60_000_000_000)]
        // selectPolicy Max: the policy that allows the most change wins.
        #expect(HPAPolicy.scaleDownLimit(current: 20, policies: tenPercentAMinute + pods, recent: [], now: 0) == 18)
        #expect(HPAPolicy.scaleDownLimit(current: 5, policies: tenPercentAMinute + pods, recent: [], now: 0) == 4)
        // Kubernetes' default, 100% in 15 s: no limit.
        #expect(HPAPolicy.scaleDownLimit(current: 9, policies: [.init(kind: .percent, value: 100, period: 15_000_000_000)], recent: [], now: 0) == 0)
    }

    /// The plan's own sale, three times the size (6,000 visits a second, about 12,000 requests),
    /// on the prod overlay's HPA: four pods are too few when the deal opens and the HPA adds pods
    /// a sync period and a start-up too late; the recommended floor, raised before the start,
    /// keeps every 5-second window's P95 within 150 ms.
    @Test func preScalingHoldsTheSLOWhereTheHPAAloneDoesNot() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path), "build flashdeal first")
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-plan-\(UInt32.random(in: 0...UInt32.max)).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: store) }
        let run = try await CommandLineTests.runAwaiting([
            "plan-scaling", "--scenario", "\(Self.root)/experiments/flash-spike.json", "--overlay", "\(Self.root)/k8s/overlays/prod",
            "--set", "traffic.stages[1].target=6000", "--set", "traffic.stages[2].target=6000", "--set", "traffic.stages[2].durationSeconds=30",
            "--set", "traffic.users=150000", "--slo-p95-ms", "150", "--results", store,
        ])
        #expect(run.status == 0, "\(run.err)")
        let lines = run.out.split(separator: "\n").map(String.init)
        let deployed = try #require(lines.first { $0.hasPrefix("HPA as deployed") })
        #expect(deployed.contains(" missed "), "\(run.out)")
        let recommendation = try #require(lines.first { $0.hasPrefix("Recommendation: minReplicas ") }, "\(run.out)")
        let floor = try #require(Int(recommendation.dropFirst("Recommendation: minReplicas ".count).prefix { $0.isNumber }))
        #expect(floor > 4 && floor <= 40)
        #expect(lines.contains { $0.hasPrefix("pre-scaled") && $0.contains(" \(floor) ") && $0.contains(" holds ") })
        // The stored runs say the same: the as-deployed run's worst window over the SLO, the
        // recommended one's within it.
        let results = try ResultsStore(path: store)
        let runs = try results.runs().sorted { $0.id < $1.id }
        func worst(_ id: Int64) throws -> Double {
            let (_, result) = try #require(try results.run(id))
            return (result.series.p95Ms5s ?? []).dropFirst(6).prefix(13).max() ?? 0
        }
        #expect(try worst(runs[0].id) > 150)
        let chosen = try #require(runs.first { $0.label.hasSuffix("floor=\(floor)") && $0.label.contains("pre-scaled") })
        #expect(try worst(chosen.id) <= 150)
    }
}
