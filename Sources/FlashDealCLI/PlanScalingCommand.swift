import ArgumentParser
import Foundation
import KubernetesPlan
import ResultsStore
import Sim

struct PlanScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan-scaling",
        abstract: "Predict the API's replicas through a sale under the deployed HPA, and the floor and pre-scaling time that keep the SLO.",
        discussion: """
            The HPA's spec and the pods' CPU request come from the rendered k8s/ overlay (--overlay prod reads \
            k8s/overlays/prod through `kubectl kustomize`; a path to a folder or to rendered YAML works too), so the plan \
            and the deployment cannot drift. The SLO holds when every 5-second window from the first deal's start to the \
            end of arrivals has its P95 within --slo-p95-ms and errors plus time-outs are at most 0.5%. Every run is stored.
            """)

    @Option(help: "The scenario file (its traffic, deals, costs; the overlay replaces its autoscaling and pods).") var scenario: String
    @Option(help: "The overlay: a name under k8s/overlays, a kustomize folder, or a file of rendered YAML.") var overlay: String
    @Option(help: "The SLO on the P95 of each 5-second window of the sale, in milliseconds.") var sloP95Ms: Double = 150
    @Option(help: "The workload the HPA scales.") var target = "flashdeal-api"
    @Option(help: "A JSON path and value set in the scenario first, e.g. traffic.stages[1].target=6000 (repeatable).") var set: [String] = []
    @Option(help: "The results store the runs are saved in.") var results = "flashdeal-results.sqlite"

    func run() throws {
        let url = URL(fileURLWithPath: scenario)
        guard let data = try? Data(contentsOf: url) else { throw ValidationError("cannot read \(scenario)") }
        let path = overlay.contains("/") || overlay.hasSuffix(".yaml") ? overlay : "k8s/overlays/\(overlay)"
        let deployed: KubernetesOverlay
        let plan: ScalingPlan
        do {
            deployed = try KubernetesOverlay.load(path, target: target)
            let document = try deployed.applied(to: try Sweep.applying(set, to: data))
            plan = try ScalingPlanner.plan(document: document, directory: url.deletingLastPathComponent().path, sloP95Ms: sloP95Ms)
        } catch let problem as KubernetesOverlay.Problem {
            throw ValidationError(problem.description)
        } catch {
            throw ValidationError("\(scenario): \(error)")
        }
        let store = try ResultsCommand.StoreOption(path: results).open()
        print("\(path): \(deployed.summary)")
        print(String(format: "Sale starts at %.0f s; SLO: P95 ≤ %.0f ms in every 5-second window from then to the end of arrivals, errors ≤ 0.5%%.",
                     plan.saleStartSeconds, sloP95Ms))
        var rows = [["plan", "floor", "floor from", "worst 5-s P95 ms", "P95 ms", "errors %", "max replicas", "SLO", "run"]]
        for (label, trial) in [("HPA as deployed", plan.asDeployed)] + plan.trials.map({ ("pre-scaled", $0) }) {
            let id = try store.save(trial.result, scenario: trial.scenario, label: "plan-scaling \(label) floor=\(trial.minReplicas)")
            rows.append([
                label, "\(trial.minReplicas)", trial.preScaleAt.map { String(format: "%.0f s", $0) } ?? "-",
                String(format: "%.1f", trial.worstWindowP95Ms), String(format: "%.1f", trial.result.overall.p95Ms),
                String(format: "%.2f", (trial.result.rates.errorRate + trial.result.rates.timeoutRate) * 100), "\(trial.result.replicas.max)",
                trial.holds ? "holds" : "missed", "\(id)",
            ])
        }
        print(TableReport.table(rows), terminator: "")
        print("Ready replicas every 10 s (as deployed | recommended):")
        let ready = { (t: ScalingPlan.Trial) in stride(from: 0, to: t.result.series.readyReplicas.count, by: 10).map { String(Int(t.result.series.readyReplicas[$0])) } }
        print("  " + ready(plan.asDeployed).joined(separator: " "))
        if let best = plan.recommended { print("  " + ready(best).joined(separator: " ")) }
        guard let best = plan.recommended else {
            print("No floor up to maxReplicas (\(deployed.maxReplicas)) holds the SLO: raise maxReplicas or the pods' CPU, or shed load (admission).")
            throw ExitCode(1)
        }
        if best.preScaleAt == nil {
            print("The HPA as deployed holds the SLO: no pre-scaling needed.")
            return
        }
        print(String(format: "Recommendation: minReplicas %d from %.0f s before the start (one sync period, the pods' start-up and 30 s; "
                     + "simulated from %.0f s), back to %d after the sale; the HPA alone misses the SLO (worst 5-s P95 %.0f ms).",
                     best.minReplicas, plan.leadSeconds, plan.preScaleAtSeconds, deployed.minReplicas, plan.asDeployed.worstWindowP95Ms))
        print("  kubectl patch hpa \(deployed.hpaName) --type merge -p '{\"spec\":{\"minReplicas\":\(best.minReplicas)}}'   # \(Int(plan.leadSeconds)) s before the start")
    }
}
