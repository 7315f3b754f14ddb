import Foundation
import LoadTest
import Sim
import Testing

/// The load-test code on recorded fixtures: a real k6 run of `experiments/smoke.json` against the
/// live server on the real backends (`Fixtures/smoke-points.json`, k6's JSON output trimmed to the
/// points the importer reads) and three simulator replications of the same file.
@Suite struct LoadTestTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.path(forResource: "Fixtures/\(name)", ofType: nil))
    }

    static var smoke: Scenario {
        get throws { try Scenario.load(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../experiments/smoke.json").path) }
    }

    static func measured() throws -> RunResult {
        let counters = K6Results.DealCounters(total: 25, available: 0, reserved: 6, sold: 19)
        return try K6Results.read(path: fixture("smoke-points.json")).result(scenario: smoke, counters: [counters])
    }

    static func predicted() throws -> [RunResult] {
        try JSONDecoder().decode([RunResult].self, from: Data(contentsOf: URL(fileURLWithPath: fixture("smoke-predicted.json"))))
    }

    @Test func k6PointsBecomeAMeasuredRun() throws {
        let r = try Self.measured()
        #expect(r.overall.requests == 159)
        #expect(r.throughput.iterations == 51)
        #expect(r.overall.errors == 0 && r.rates.errorRate == 0)
        // 15 sold-out and 4 over-the-limit answers: business outcomes, not errors.
        #expect(r.orders.soldOutAnswers == 15 && r.orders.limitAnswers == 4 && r.overall.business == 19)
        #expect(r.operations.first { $0.name == "placeOrder" }?.business == 19)
        #expect(r.orders.accepted == 26)
        #expect(Set(r.operations.map(\.name)).isSubset(of: Set(Scenario.Operation.allCases.map(\.name))))
        #expect(r.operations.map(\.requests).reduce(0, +) == 159)
        let soldOut = try #require(r.orders.soldOutAtSeconds)
        #expect(soldOut > 3 && soldOut < 6)
        #expect(r.orders.conservationHolds && r.orders.oversoldUnits == 0)
        #expect(r.series.achievedRps.reduce(0, +) == 159)
        #expect((r.series.p95Ms5s ?? []).count == (r.series.p95Ms.count + 4) / 5)
        #expect(r.overall.p50Ms > 0 && r.overall.p50Ms <= r.overall.p95Ms && r.overall.p95Ms <= r.overall.p99Ms)
    }

    @Test func rfc3339TimesWithOffsets() {
        #expect(K6Results.seconds("1970-01-01T00:00:00Z") == 0)
        #expect(K6Results.seconds("2026-11-28T20:14:26.5Z") == 1_795_896_866.5)
        #expect(K6Results.seconds("2026-11-28T21:14:26.5+01:00") == 1_795_896_866.5)
        #expect(K6Results.seconds("yesterday") == nil)
    }

    @Test func thePlanComesFromTheScenarioFile() throws {
        let plan = try K6Plan(scenario: Self.smoke, target: "http://127.0.0.1:9", runTag: "t1")
        #expect(plan.stages.map(\.durationSeconds) == [2, 4] && plan.stages.map(\.target) == [10, 10] && plan.startRate == 2)
        #expect(plan.deals.map(\.id) == ["smoke-t1"] && plan.users == 40)
        #expect(plan.journey.thinkTime.type == "exponential" && plan.journey.thinkTime.meanMs == 100)
        #expect(plan.journey.orderProbability == 0.8 && plan.journey.polls == 1)
        #expect(plan.maxVUs >= 50 && plan.preAllocatedVUs <= plan.maxVUs)
        // A think time k6 cannot reproduce is an error naming the field.
        var odd = try Self.smoke
        odd.traffic.journey.thinkTime = .lognormal(mean: 1e8, sd: 1e7)
        #expect(throws: LoadTestError.self) { try K6Plan(scenario: odd, target: "x", runTag: "t") }
        do { _ = try K6Plan(scenario: odd, target: "x", runTag: "t") } catch { #expect(error.description.contains("traffic.journey.thinkTime")) }
    }

    @Test func predictedAgainstMeasured() throws {
        let predicted = try Self.predicted(), measured = try Self.measured()
        let comparison = Comparison(predicted: predicted, measured: [measured])
        let p95 = try #require(comparison.rows.first { $0.metric == "all P95 (ms)" })
        let mean = predicted.map(\.overall.p95Ms).reduce(0, +) / 3
        #expect(abs(p95.predicted.mean - mean) < 1e-9)
        #expect(abs((p95.relativeError ?? 0) - (mean - measured.overall.p95Ms) / measured.overall.p95Ms) < 1e-9)
        #expect(p95.inside == (p95.predicted.contains(measured.overall.p95Ms) ? 1 : 0))
        let accepted = try #require(comparison.rows.first { $0.metric == "orders accepted" })
        #expect(accepted.measured.mean == 26)
        #expect(comparison.windows.count == min(predicted.map { $0.series.p95Ms5s!.count }.min()!, measured.series.p95Ms5s!.count))
        // The recorded run's latencies are far above the uncalibrated prediction: the report says where.
        #expect(comparison.suspects.contains { $0.metric == "all P95 (ms)" })
        let table = comparison.table()
        #expect(table.contains("95% prediction interval") && table.contains("Off by more than ±15%"))
        #expect(comparison.html().contains("<svg") && comparison.html().contains("P95 per 5-second window"))
    }

    @Test func aPredictionIntervalWidensWithFewReplications() {
        let values = [10.0, 12, 14]
        let pi = PredictionInterval(values), ci = ConfidenceInterval(values)
        #expect(pi.mean == 12 && ci.mean == 12)
        // t(0.975, 2) · s · √(1 + 1/3) against t · s / √3: twice as wide.
        #expect(abs(pi.halfWidth - 4.303 * 2 * (4.0 / 3).squareRoot()) < 1e-9)
        #expect(abs(pi.halfWidth / ci.halfWidth - 2) < 1e-9)
    }
}

/// Calibration from one load level and the levels table.
@Suite struct LevelValidationTests {
    @Test func scalingTheCPUScalesEveryOperation() throws {
        let smoke = try LoadTestTests.smoke
        let doubled = smoke.scalingCPU(by: 2)
        for (a, b) in zip(smoke.http.cpu, doubled.http.cpu) { #expect(abs(b.mean - 2 * a.mean) < 1e-6 * a.mean) }
        #expect(Distribution.mixture(weights: [0.5, 0.5], components: [.constant(2), .uniform(min: 1, max: 3)]).scaled(by: 3).mean == 6)
        // Everything but the CPU is untouched.
        var back = doubled
        back.http.cpu = smoke.http.cpu
        #expect(back == smoke)
    }

    @Test func theFitFindsTheFactorThatProducedAP95() throws {
        var smoke = try LoadTestTests.smoke
        // Enough CPU per request that the P95 depends on it.
        smoke.http.cpu = smoke.http.cpu.map { _ in .lognormal(mean: 20e6, sd: 5e6) }
        let runs = Simulator.replicate(smoke.scalingCPU(by: 2.5), count: 3)
        let target = runs.map(\.overall.p95Ms).reduce(0, +) / 3
        let fit = CPUScaleFit.fit(smoke, measuredP95Ms: target)
        #expect(!fit.clamped)
        #expect(abs(fit.scale - 2.5) / 2.5 < 0.05, "fitted \(fit.scale)")
        #expect(abs(fit.predictedP95Ms - target) / target < 0.05)
        // A target no factor reaches is clamped, and says so.
        let far = CPUScaleFit.fit(smoke, measuredP95Ms: 1e9)
        #expect(far.clamped && far.scale == CPUScaleFit.bounds.high)
    }

    @Test func theCalibrationFileScalesTheResolvedCPU() throws {
        let smoke = try LoadTestTests.smoke
        let data = try smoke.cpuCalibrationJSON(scale: 2, description: "test")
        let file = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cpu = try #require((file["http"] as? [String: Any])?["cpu"] as? [String: Any])
        #expect(file["description"] as? String == "test" && !cpu.isEmpty)
        // Included over the scenario, it gives the scaled CPU.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fd-fit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try data.write(to: directory.appendingPathComponent("fitted.json"))
        var own = try #require(try JSONSerialization.jsonObject(with: Data(smoke.canonicalJSON.utf8)) as? [String: Any])
        own.removeValue(forKey: "http")
        own["include"] = ["fitted.json"]
        let included = try Scenario.parse(try JSONSerialization.data(withJSONObject: own), directory: directory.path)
        for (a, b) in zip(smoke.http.cpu, included.http.cpu) { #expect(abs(b.mean - 2 * a.mean) < 1e-3 * a.mean + 1) }
    }

    @Test func theTableHasARowPerLevelAndMetricAndSplicesIntoItsSection() throws {
        let predicted = try LoadTestTests.predicted(), measured = try LoadTestTests.measured()
        let comparison = Comparison(predicted: predicted, measured: [measured])
        let validation = LevelValidation(
            fit: CPUScaleFit(scale: 1.5, targetP95Ms: 200, predictedP95Ms: 198, clamped: false), calibratedOn: "smoke",
            settings: ["http.coresPerReplica=2"], levels: [.init(offeredRps: 500, comparison: comparison), .init(offeredRps: 1000, comparison: comparison)])
        let text = validation.markdown(date: "2026-11-28", machine: "test machine")
        #expect(text.contains("scaled by 1.50") && text.contains("test machine") && text.contains("`http.coresPerReplica=2`"))
        #expect(text.contains("| 500 rps | all P95 (ms) |") && text.contains("| 1000 rps | throughput (rps) |"))
        #expect(text.contains("five-second P95 windows"))
        let document = "# V\n<!-- levels:begin -->\nold\n<!-- levels:end -->\ntail\n"
        let spliced = try LevelValidation.splice(text, into: document)
        #expect(!spliced.contains("old") && spliced.contains("| 500 rps |") && spliced.hasSuffix("<!-- levels:end -->\ntail\n"))
        #expect(throws: LoadTestError.self) { try LevelValidation.splice(text, into: "no markers") }
        // A named section leaves the others alone.
        let two = document + "<!-- journey-levels:begin -->\nold journey\n<!-- journey-levels:end -->\n"
        let journey = try LevelValidation.splice(text, into: two, section: "journey-levels")
        #expect(journey.contains("<!-- levels:begin -->\nold\n") && !journey.contains("old journey") && journey.hasSuffix("<!-- journey-levels:end -->\n"))
        #expect(journey.components(separatedBy: "| 500 rps | all P95 (ms) |").count == 2)
    }
}
