import ArgumentParser
import Foundation
import Sim

/// `flashdeal fairness`: who wins the stock when bots come, with and without the deal's waiting
/// room, as the simulator predicts it (``FairnessModel``).
struct FairnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fairness", abstract: "Predict the bots' share of the stock and the order inversions, with and without a waiting room.")

    @Option(help: "A fairness scenario (experiments/fairness/bots.json).") var scenario: String
    @Option(help: "Replications (seeds 1...n); the figures are their means.") var replications = 5
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() throws {
        let loaded: FairnessScenario
        do { loaded = try FairnessScenario.load(path: scenario) } catch { throw ValidationError("\(scenario): \(error)") }
        guard replications >= 1, replications <= 1000 else { throw ValidationError("--replications must be in 1...1000") }
        let runs = [false, true].map { room in (1...replications).map { FairnessModel.run(loaded, waitingRoom: room, seed: UInt64($0)) } }
        let means = runs.map(FairnessSummary.init)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let report = FairnessReport(scenario: loaded.name, replications: replications, withoutWaitingRoom: means[0], withWaitingRoom: means[1])
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("\(loaded.name): \(loaded.stock) units, \(loaded.humans) humans and \(loaded.bots) bots, mean of \(replications) runs")
        print("waiting room  bot share of units  of buyers  early humans' units  late humans' units  inversions  rate-limited")
        for summary in means {
            print("\(summary.waitingRoom ? "yes" : "no ")           \(String(format: "%17.1f%%", summary.botShareOfUnits * 100))  "
                + "\(String(format: "%8.1f%%", summary.botShareOfBuyers * 100))  \(String(format: "%19.1f", summary.earlyHumanUnits))  "
                + "\(String(format: "%18.1f", summary.lateHumanUnits))  \(String(format: "%9.2f%%", summary.inversionRate * 100))  \(String(format: "%12.0f", summary.rateLimited))")
        }
    }
}

/// The mean figures of several runs of one variant.
struct FairnessSummary: Codable {
    var waitingRoom: Bool
    var botShareOfUnits: Double
    var botShareOfBuyers: Double
    var earlyHumanUnits: Double
    var lateHumanUnits: Double
    var inversionRate: Double
    var rateLimited: Double

    init(_ runs: [FairnessResult]) {
        func mean(_ value: (FairnessResult) -> Double) -> Double { runs.map(value).reduce(0, +) / Double(runs.count) }
        waitingRoom = runs[0].waitingRoom
        botShareOfUnits = mean(\.botShareOfUnits)
        botShareOfBuyers = mean(\.botShareOfBuyers)
        earlyHumanUnits = mean { Double($0.earlyHumanUnits) }
        lateHumanUnits = mean { Double($0.lateHumanUnits) }
        inversionRate = mean(\.inversionRate)
        rateLimited = mean { Double($0.rateLimited) }
    }
}

/// `flashdeal fairness --json`.
struct FairnessReport: Codable {
    var scenario: String
    var replications: Int
    var withoutWaitingRoom: FairnessSummary
    var withWaitingRoom: FairnessSummary
}
