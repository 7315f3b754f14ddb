import Domain
import Foundation

/// Runs scenarios: one run, independent replications in parallel, and parameter sweeps.
public enum Simulator {
    /// The version written into every stored run.
    public static let codeVersion = "0.2.0"

    /// Runs the scenario once with `seed` (the scenario's own when `nil`).
    public static func run(_ scenario: Scenario, seed: UInt64? = nil) -> RunResult {
        let clock = ContinuousClock()
        let started = clock.now
        var model = FlashSaleModel(scenario: scenario, seed: seed)
        let stats = model.run()
        var result = model.result(stats, codeVersion: codeVersion, scenarioHash: scenario.hash)
        let wall = started.duration(to: clock.now)
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        result.timing = RunResult.Timing(wallSeconds: seconds, eventsPerSecond: Double(result.eventsProcessed) / max(seconds, 1e-9))
        return result
    }

    /// Runs `count` replications with seeds derived from `seed`, spread over the machine's cores.
    /// `progress` is called after each finishes, from any thread.
    public static func replicate(
        _ scenario: Scenario, seed: UInt64? = nil, count: Int, progress: (@Sendable (Int) -> Void)? = nil
    ) -> [RunResult] {
        let base = seed ?? scenario.seed
        let results = ResultSlots(count: count)
        let done = Counter()
        DispatchQueue.concurrentPerform(iterations: count) { i in
            results.set(i, run(scenario, seed: RandomStreams.replicationSeed(base: base, index: i)))
            progress?(done.increment())
        }
        return results.values
    }
}

extension Scenario {
    /// FNV-1a of the canonical JSON, as 16 hex digits: which scenario a stored run belongs to.
    public var hash: String {
        let hex = String(FNV1a.hash(canonicalJSON.utf8), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Result slots written from parallel workers.
final class ResultSlots: @unchecked Sendable {
    // Safe: every index is written by exactly one worker, and read only after all have finished.
    private var slots: [RunResult?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: RunResult) {
        lock.lock(); slots[i] = value; lock.unlock()
    }

    var values: [RunResult] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}

final class Counter: @unchecked Sendable {
    // Safe: the value is only touched under the lock.
    private var value = 0
    private let lock = NSLock()

    func increment() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}
