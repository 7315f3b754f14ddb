import ArgumentParser
import Foundation
import ResultsStore
import Sim

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate", abstract: "Simulate a flash sale from a scenario file and store the run.")

    @Option(help: "The scenario file (JSON, see docs/scenario.md).") var scenario: String
    @Option(help: "The random seed (default: the scenario's).") var seed: UInt64?
    @Option(help: "table or json.") var format: OutputFormat = .table
    @Option(help: "Independent replications, run in parallel; metrics get 95% confidence intervals.") var replications: Int = 1
    @Option(help: "The results store (SQLite) every run is saved in.") var results = "flashdeal-results.sqlite"
    @Option(help: "Write an HTML report with SVG charts into this folder.") var report: String?

    enum OutputFormat: String, ExpressibleByArgument { case table, json }

    func validate() throws {
        guard replications >= 1, replications <= 10_000 else { throw ValidationError("--replications must be between 1 and 10000") }
    }

    func run() throws {
        let scenario = try loadScenario(self.scenario)
        let progress = ProgressBar(total: replications, label: "replications")
        let results = replications == 1
            ? [Simulator.run(scenario, seed: seed)]
            : Simulator.replicate(scenario, seed: seed, count: replications) { progress.update($0) }
        progress.finish()
        let first = results[0]
        let store = try ResultsCommand.StoreOption(path: self.results).open()
        var ids: [Int64] = []
        for (i, result) in results.enumerated() { ids.append(try store.save(result, scenario: scenario, replication: i)) }
        if let report {
            let file = try HTMLReport.write(results, to: report)
            FileHandle.standardError.write(Data("report: \(file)\n".utf8))
        }
        FileHandle.standardError.write(Data("stored as run \(ids.map(String.init).joined(separator: ", ")) in \(self.results)\n".utf8))
        switch format {
        case .json:
            FileHandle.standardOutput.write(try first.json())
            print()
        case .table:
            print(TableReport.render(first, intervals: replications > 1 ? Replications.intervals(results) : [:]), terminator: "")
        }
    }
}

/// Reads a scenario, turning a validation error into a clean exit naming the JSON path.
func loadScenario(_ path: String) throws -> Scenario {
    do {
        return try Scenario.load(path: path)
    } catch {
        throw ValidationError("\(path): \(error)")
    }
}
