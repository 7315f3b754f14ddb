import ArgumentParser
import Foundation
import ResultsStore
import Sim

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run a grid of scenario variants over the cores and find the highest rate within the SLO.")

    @Option(help: "The scenario file.") var scenario: String
    @Option(help: "A JSON path and its values, e.g. traffic.stages[2].target=500,1000,2000 (repeatable).") var vary: [String] = []
    @Option(help: "The SLO on the overall P95, in milliseconds.") var sloP95Ms: Double = 150
    @Option(help: "The results store every run is saved in.") var results = "flashdeal-results.sqlite"

    func run() throws {
        let url = URL(fileURLWithPath: scenario)
        guard let data = try? Data(contentsOf: url) else { throw ValidationError("cannot read \(scenario)") }
        let sweep: Sweep
        do {
            sweep = try Sweep(document: data, directory: url.deletingLastPathComponent().path, axes: try vary.map { try Sweep.Axis(parsing: $0) })
        } catch {
            throw ValidationError("\(scenario): \(error)")
        }
        let progress = ProgressBar(total: sweep.points.count, label: "sweep")
        let runs = sweep.run { progress.update($0) }
        progress.finish()
        let store = try ResultsCommand.StoreOption(path: results).open()
        var rows = [sweep.points[0].settings.map(\.path) + ["offered rps", "achieved rps", "p95 ms", "p99 ms", "errors %", "time-outs %", "bottleneck", "run"]]
        for (point, run) in zip(sweep.points, runs) {
            let id = try store.save(run, scenario: point.scenario, label: point.settings.map { "\($0.path)=\($0.value)" }.joined(separator: " "))
            rows.append(point.settings.map(\.value) + [
                String(format: "%.0f", run.throughput.offeredRps), String(format: "%.0f", run.throughput.achievedRps),
                String(format: "%.2f", run.overall.p95Ms), String(format: "%.2f", run.overall.p99Ms),
                String(format: "%.3f", run.rates.errorRate * 100), String(format: "%.3f", run.rates.timeoutRate * 100),
                run.bottleneck.resource, "\(id)",
            ])
        }
        print(TableReport.table(rows), terminator: "")
        if let best = Sweep.highestRateWithinSLO(runs, p95Ms: sloP95Ms), let i = runs.firstIndex(of: best) {
            let settings = sweep.points[i].settings.map { "\($0.path)=\($0.value)" }.joined(separator: " ")
            print("Highest offered rate within P95 ≤ \(sloP95Ms) ms and errors ≤ 0.5%: \(String(format: "%.0f", best.throughput.offeredRps)) rps (\(settings))")
        } else {
            print("No variant keeps P95 ≤ \(sloP95Ms) ms with errors ≤ 0.5%.")
        }
    }
}
