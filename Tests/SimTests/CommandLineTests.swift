import Foundation
import Testing

/// The `flashdeal` binary built beside the tests: what a user types.
@Suite struct CommandLineTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("flashdeal")
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// `run` on a thread of its own, for a long command in an async test: a test that blocked a
    /// thread of Swift's cooperative pool (two, on two cores) for a minute would stall every
    /// other test's awaits meanwhile.
    static func runAwaiting(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try run(arguments) }) }
        }
    }

    @Test func simulateStoresTheRunAndWritesTheReport() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build flashdeal first")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-cli-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = dir.appendingPathComponent("r.sqlite").path
        let scenario = Fixtures.root.appendingPathComponent("experiments/mmc-validation.json").path
        let run = try Self.run(["simulate", "--scenario", scenario, "--results", store, "--report", dir.appendingPathComponent("report").path])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("Bottleneck: http.cpu") && run.out.contains("oversold 0"))
        let html = try String(contentsOf: dir.appendingPathComponent("report/index.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("Kafka consumer lag") && !html.contains("<script"))
        let list = try Self.run(["results", "list", "--results", store])
        #expect(list.out.contains("mmc-validation"))
        let json = try Self.run(["results", "show", "1", "--json", "--results", store])
        #expect(json.out.contains("\"scenarioHash\""))
        let export = try Self.run(["results", "export", "--csv", dir.appendingPathComponent("csv").path, "--results", store])
        #expect(export.status == 0 && export.out.contains("series.csv"))
    }

    @Test func badScenarioIsAClearErrorNotACrash() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build flashdeal first")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UInt32.random(in: 0...UInt32.max)).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"{"name":"t","traffic":{"stages":[{"durationSeconds":1,"target":"fast"}]},"deals":[{"id":"d","stock":5}]}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let run = try Self.run(["simulate", "--scenario", file.path, "--results", "/dev/null/none"])
        #expect(run.status != 0)
        #expect(run.err.contains("$.traffic.stages[0].target: expected a number, found the string \"fast\""), "\(run.err)")
        let missing = try Self.run(["simulate", "--scenario", "/nonexistent.json"])
        #expect(missing.status != 0 && missing.err.contains("cannot read /nonexistent.json"))
        let sweep = try Self.run(["sweep", "--scenario", Fixtures.root.appendingPathComponent("experiments/mmc-validation.json").path, "--vary", "http.replicas"])
        #expect(sweep.status != 0 && sweep.err.contains("expected PATH=V1,V2"))
    }
}
