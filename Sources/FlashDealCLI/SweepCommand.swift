import ArgumentParser
import Foundation
import ResultsStore
import Sim

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run a grid of scenario variants over the cores and find the highest rate within the SLO.",
        discussion: """
            A grid too large for one machine runs in parts: `--shard i/n` runs every n-th point from the i-th into its own \
            store, and `flashdeal results merge` folds the parts' stores into one. `--emit-k8s-job DIR` writes an Indexed \
            Job whose pods each run one part on a Kubernetes cluster (docs/deploy.md).
            """)

    @Option(help: "The scenario file.") var scenario: String
    @Option(help: "A JSON path and its values, e.g. traffic.stages[2].target=500,1000,2000 (repeatable).") var vary: [String] = []
    @Option(help: "The SLO on the overall P95, in milliseconds.") var sloP95Ms: Double = 150
    @Option(help: "The results store every run is saved in.") var results = "flashdeal-results.sqlite"
    @Option(help: "Run one part of the grid, INDEX/COUNT (0-based): every COUNT-th point from the INDEX-th.") var shard: String?
    @Option(help: "Write an Indexed Job (kustomize) that runs the sweep on Kubernetes in --shards parts, and stop.") var emitK8sJob: String?
    @Option(help: "With --emit-k8s-job: how many parts (pods).") var shards = 4
    @Option(help: "With --emit-k8s-job: the flashdeal image the pods run.") var image = "ghcr.io/flashdeal/flashdeal:\(FlashDealVersion.current)"
    @Option(help: "With --emit-k8s-job: the namespace the Jobs run in.") var namespace = "flashdeal"

    func run() throws {
        let url = URL(fileURLWithPath: scenario)
        guard let data = try? Data(contentsOf: url) else { throw ValidationError("cannot read \(scenario)") }
        let sweep: Sweep
        let part: Sweep.Shard
        do {
            sweep = try Sweep(document: data, directory: url.deletingLastPathComponent().path, axes: try vary.map { try Sweep.Axis(parsing: $0) })
            part = try shard.map { try Sweep.Shard(parsing: $0) } ?? .whole
        } catch {
            throw ValidationError("\(scenario): \(error)")
        }
        if let directory = emitK8sJob {
            guard (1...1000).contains(shards) else { throw ValidationError("--shards must be 1...1000, found \(shards)") }
            let job = try SweepJob(scenarioPath: scenario, name: sweep.points[0].scenario.name, vary: vary, sloP95Ms: sloP95Ms,
                                   shards: min(shards, sweep.points.count), image: image, namespace: namespace)
            for file in try job.write(to: directory) { print(file) }
            print(job.instructions(directory: directory))
            return
        }
        let indices = sweep.points(in: part)
        let progress = ProgressBar(total: indices.count, label: part == .whole ? "sweep" : "sweep \(part)")
        let runs = sweep.run(indices) { progress.update($0) }
        progress.finish()
        let store = try ResultsCommand.StoreOption(path: results).open()
        var rows = [sweep.points[0].settings.map(\.path) + ["offered rps", "achieved rps", "p95 ms", "p99 ms", "errors %", "time-outs %", "bottleneck", "run"]]
        for (index, run) in zip(indices, runs) {
            let point = sweep.points[index]
            let id = try store.save(run, scenario: point.scenario, label: point.settings.map { "\($0.path)=\($0.value)" }.joined(separator: " "), sweepPoint: index)
            rows.append(point.settings.map(\.value) + [
                String(format: "%.0f", run.throughput.offeredRps), String(format: "%.0f", run.throughput.achievedRps),
                String(format: "%.2f", run.overall.p95Ms), String(format: "%.2f", run.overall.p99Ms),
                String(format: "%.3f", run.rates.errorRate * 100), String(format: "%.3f", run.rates.timeoutRate * 100),
                run.bottleneck.resource, "\(id)",
            ])
        }
        print(TableReport.table(rows), terminator: "")
        let scope = part == .whole ? "" : " (among shard \(part)'s \(indices.count) of \(sweep.points.count) points)"
        if let best = Sweep.highestRateWithinSLO(runs, p95Ms: sloP95Ms), let i = runs.firstIndex(of: best) {
            let settings = sweep.points[indices[i]].settings.map { "\($0.path)=\($0.value)" }.joined(separator: " ")
            print("Highest offered rate within P95 ≤ \(sloP95Ms) ms and errors ≤ 0.5%\(scope): \(String(format: "%.0f", best.throughput.offeredRps)) rps (\(settings))")
        } else {
            print("No variant keeps P95 ≤ \(sloP95Ms) ms with errors ≤ 0.5%\(scope).")
        }
    }
}
