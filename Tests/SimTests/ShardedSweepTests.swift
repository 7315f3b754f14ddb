import Foundation
import ResultsStore
import Sim
import Testing

/// `sweep --shard i/n` as separate processes (what an Indexed Job's pods run), folded by
/// `results merge`, stores what one `sweep` stores; `--emit-k8s-job` writes the Job that runs it.
@Suite struct ShardedSweepTests {
    static let axes = ["--vary", "traffic.stages[0].target=1600,2400,3200", "--vary", "http.coresPerReplica=4,5"]

    @Test func shardsMergedEqualOneProcess() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path), "build flashdeal first")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-shards-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let scenario = Fixtures.root.appendingPathComponent("experiments/mmc-validation.json").path
        let store: @Sendable (String) -> String = { name in dir.appendingPathComponent("\(name).sqlite").path }

        let single = try await CommandLineTests.runAwaiting(["sweep", "--scenario", scenario] + Self.axes + ["--results", store("single")])
        #expect(single.status == 0, "\(single.err)")
        // Three shards at once, as three pods would run them.
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for i in 0..<3 {
                group.addTask {
                    try await CommandLineTests.runAwaiting(
                        ["sweep", "--scenario", scenario] + Self.axes + ["--shard", "\(i)/3", "--results", store("shard-\(i)")]).status
                }
            }
            for try await status in group { #expect(status == 0) }
        }
        // Six points: each shard ran two of them.
        for i in 0..<3 { #expect(try ResultsStore(path: store("shard-\(i)")).runs().count == 2) }
        // Given out of order: the merge puts the runs back in grid order.
        let merge = try await CommandLineTests.runAwaiting(["results", "merge", "--results", store("merged"), store("shard-2"), store("shard-0"), store("shard-1")])
        #expect(merge.status == 0 && merge.out.contains("merged 6 runs from 3 stores"), "\(merge.err)")

        let one = try ResultsStore(path: store("single")).contentFingerprint()
        let merged = try ResultsStore(path: store("merged")).contentFingerprint()
        #expect(one.contains("point 5") && one.count > 10_000)
        #expect(merged == one)
        // A shard missing from the merge is a different store, not a silent equal.
        let partial = try CommandLineTests.run(["results", "merge", "--results", store("partial"), store("shard-0"), store("shard-1")])
        #expect(partial.status == 0)
        #expect(try ResultsStore(path: store("partial")).contentFingerprint() != one)
    }

    @Test func badShardsAndStoresAreClearErrors() throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path), "build flashdeal first")
        let scenario = Fixtures.root.appendingPathComponent("experiments/mmc-validation.json").path
        for bad in ["3/3", "1", "1/-2", "a/b", "0/0"] {
            let run = try CommandLineTests.run(["sweep", "--scenario", scenario, "--shard", bad, "--results", "/dev/null/none"])
            #expect(run.status != 0 && run.err.contains("expected INDEX/COUNT"), "\(bad): \(run.err)")
        }
        let missing = try CommandLineTests.run(["results", "merge", "--results", "/tmp/flashdeal-merge-\(UInt32.random(in: 0...UInt32.max)).sqlite", "/nonexistent.sqlite"])
        #expect(missing.status != 0 && missing.err.contains("no results store at /nonexistent.sqlite"))
    }

    @Test func emitsAnIndexedJobWithTheScenarioBundled() throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path), "build flashdeal first")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-job-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A scenario that includes calibration files: the bundle must carry what they set.
        let path = Fixtures.root.appendingPathComponent("experiments/journey-1000.json").path
        let run = try CommandLineTests.run(["sweep", "--scenario", path, "--vary", "http.replicas=1,2,3", "--emit-k8s-job", dir.path, "--shards", "8"])
        #expect(run.status == 0, "\(run.err)")
        let job = try String(contentsOf: dir.appendingPathComponent("sweep-job.yaml"), encoding: .utf8)
        // Three points: three pods, not eight.
        #expect(job.contains("completionMode: Indexed") && job.contains("completions: 3") && job.contains("\"$(JOB_COMPLETION_INDEX)/3\""))
        #expect(job.contains("\"--vary\",\"http.replicas=1,2,3\""))
        let merge = try String(contentsOf: dir.appendingPathComponent("merge-job.yaml"), encoding: .utf8)
        #expect(merge.contains("\"/results/shard-2.sqlite\"") && !merge.contains("shard-3"))
        let bundled = try Scenario.parse(Data(contentsOf: dir.appendingPathComponent("scenario.json")), directory: dir.path)
        #expect(bundled.hash == (try Scenario.load(path: path)).hash)
        #expect(!(try String(contentsOf: dir.appendingPathComponent("scenario.json"), encoding: .utf8)).contains("\"include\""))
    }
}
