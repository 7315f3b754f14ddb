import ArgumentParser
import Foundation
import LoadTest
import ResultsStore
import Sim

struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Run k6 against a live server with the traffic of a scenario file, and store the measured run.",
        discussion: """
            Seeds the server with the scenario's deals (fresh ids per run), derives the k6 stages, journey and \
            think times from the same file the simulator reads, runs k6/scenario.js, imports k6's per-request \
            points and stores a measured run under the scenario's hash. Compare with `flashdeal compare`.
            """)

    @Option(help: "The scenario file (JSON, see docs/scenario.md).") var scenario: String
    @Option(help: "The live server.") var target = "http://127.0.0.1:8080"
    @Option(help: "How many k6 runs (each on fresh deals).") var `repeat`: Int = 1
    @Option(help: "The k6 binary (default: .venv/flashdeal/k6, else FLASHDEAL_K6).") var k6: String?
    @Option(help: "The k6 script.") var script = "k6/scenario.js"
    @Option(help: "Where k6's plans and outputs go.") var workDirectory = ".run/loadtest"
    @OptionGroup var store: ResultsCommand.StoreOption

    func validate() throws {
        guard (1...100).contains(`repeat`) else { throw ValidationError("--repeat must be between 1 and 100") }
    }

    func run() async throws {
        let scenario = try loadScenario(self.scenario)
        let k6 = self.k6 ?? ProcessInfo.processInfo.environment["FLASHDEAL_K6"] ?? ".venv/flashdeal/k6"
        guard FileManager.default.isExecutableFile(atPath: k6) else { throw ValidationError("no k6 at \(k6): run scripts/bootstrap.sh or pass --k6") }
        let runner = LoadTestRunner(scenario: scenario, target: target, k6: k6, script: script, workDirectory: workDirectory)
        let results = try store.open()
        let stamp = Int(Date().timeIntervalSince1970)
        for i in 0..<`repeat` {
            let result: RunResult
            do {
                result = try await runner.run(tag: "\(stamp)-\(i)") { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            } catch let error as LoadTestError {
                throw ValidationError("\(error)")
            }
            let id = try results.save(result, scenario: scenario, kind: .measured, replication: i, label: "k6")
            FileHandle.standardError.write(Data("stored measured run \(id) in \(store.path)\n".utf8))
            print(TableReport.render(result), terminator: "")
        }
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Predicted against measured for one scenario: a table and an HTML report with both series on the same charts.",
        discussion: """
            Takes the scenario's stored predicted runs (simulating --replications now when there are none) and its \
            measured runs, and reports each metric's prediction interval, the measured mean, the relative error and \
            whether the measurement lies inside the interval, overall and per 5-second window.
            """)

    @Option(help: "The scenario file.") var scenario: String
    @Option(help: "Replications to simulate when the store has no predicted run of this scenario.") var replications = 10
    @Option(help: "Use only the newest N measured runs.") var measured = 10
    @Option(help: "Write the HTML report to this file.") var report: String?
    @Option(help: "The relative error a prediction may have.") var tolerance = 0.15
    @Flag(help: "Simulate the replications now even when the store has predicted runs (after a model change).") var freshPredictions = false
    @OptionGroup var store: ResultsCommand.StoreOption

    func run() throws {
        let scenario = try loadScenario(self.scenario)
        let results = try store.open()
        let measuredRuns = try results.runs(limit: measured, scenarioHash: scenario.hash, kind: .measured).compactMap { try results.run($0.id)?.1 }
        guard !measuredRuns.isEmpty else {
            throw ValidationError("\(store.path) holds no measured run of \(scenario.name) (hash \(scenario.hash)): run `flashdeal loadtest --scenario \(self.scenario)` first")
        }
        var predicted = freshPredictions
            ? [] : try results.runs(limit: 1000, scenarioHash: scenario.hash, kind: .predicted).compactMap { try results.run($0.id)?.1 }
        if predicted.isEmpty {
            predicted = Simulator.replicate(scenario, count: replications)
            for (i, r) in predicted.enumerated() { try results.save(r, scenario: scenario, replication: i) }
        }
        let comparison = Comparison(predicted: predicted, measured: measuredRuns, tolerance: tolerance)
        print(comparison.table(), terminator: "")
        if let report {
            try comparison.html().write(toFile: report, atomically: true, encoding: .utf8)
            FileHandle.standardError.write(Data("report: \(report)\n".utf8))
        }
    }
}
