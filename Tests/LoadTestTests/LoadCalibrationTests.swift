import Foundation
@testable import LoadTest
import Testing

/// `flashdeal calibrate`'s arithmetic on a recorded run (`Fixtures/calibration-phases.json`, the
/// phases it measured against the release server on this machine) and on made-up phases whose
/// answer is known.
@Suite struct LoadCalibrationTests {
    static func recorded() throws -> LoadCalibration {
        let data = try Data(contentsOf: URL(fileURLWithPath: try LoadTestTests.fixture("calibration-phases.json")))
        return try JSONDecoder().decode(LoadCalibration.self, from: data)
    }

    @Test func theRecordedPhasesGiveEachOperationItsShareOfTheServersCPU() throws {
        let run = try Self.recorded()
        let fit = try run.fit()
        func phase(_ name: String) throws -> LoadCalibration.Phase { try #require(run.phases.first { $0.name == name }) }
        // A phase of one operation: its CPU less the quiet baseline, over its requests.
        func alone(_ p: LoadCalibration.Phase, _ op: String) -> Double {
            (p.server - run.baseline.serverPerSecond * p.seconds) / (p.requests[op] ?? 0) * 1000
        }
        let view = try phase("view"), place = try phase("place"), pay = try phase("pay")
        #expect(abs(try #require(fit.server["viewDeal"]) - alone(view, "viewDeal")) < 1e-6)
        let placeMs = alone(place, "placeOrder")
        #expect(abs(try #require(fit.server["placeOrder"]) - placeMs) < 1e-6)
        // A payment is what a place-and-pay iteration costs beyond the place.
        let payMs = ((pay.server - run.baseline.serverPerSecond * pay.seconds) * 1000 - (pay.requests["placeOrder"] ?? 0) * placeMs) / (pay.requests["payOrder"] ?? 1)
        #expect(abs(try #require(fit.server["payOrder"]) - payMs) < 1e-6)
        // k6's CPU: less its cost of a run with next to no requests.
        let k6View = (view.loadGenerator - run.baseline.loadGeneratorRun) / (view.requests["viewDeal"] ?? 1) * 1000
        #expect(abs(try #require(fit.loadGenerator["viewDeal"]) - k6View) < 1e-6)
        // The journeys at four rates: the server's CPU per request falls as the rate rises.
        #expect(fit.byRate.count == 4 && zip(fit.byRate, fit.byRate.dropFirst()).allSatisfy { $0.rate < $1.rate && $0.server >= $1.server })
    }

    @Test func theWriterTiersCostComesFromItsCatchUpOnTheIdleMachine() throws {
        // The recorded calibration's catch-up: the machine's busy time from the first sample to
        // the last write, beyond its quiet level, per message written.
        let run = try Self.recorded()
        #expect(run.writerDrain == nil && run.writerCost == nil, "a calibration without --writer says nothing of the writer")
        var withWriter = run
        withWriter.baseline.machinePerSecond = 0.2
        let samples = (0...40).map { (i: Int) -> WriterDrain.Sample in
            let t = Double(i)
            return WriterDrain.Sample(at: t, written: t * 100, lag: 4000 - t * 100, outbox: 0, busy: t * 1.2)
        }
        withWriter.writerDrain = WriterDrain(samples: samples, loadEnd: 0)
        let cost = try #require(withWriter.writerCost)
        // 40 s, 48 busy core-seconds less 8 quiet, 4,000 messages: 10 ms a message, one core.
        #expect(abs(cost.cpuPerMessageMs - 10) < 1e-9 && abs(cost.cores - 1) < 1e-9, "\(cost)")
        // A catch-up of fewer than 1,000 messages measures nothing.
        withWriter.writerDrain = WriterDrain(samples: Array(samples.prefix(9)), loadEnd: 0)
        #expect(withWriter.writerCost == nil)
    }

    @Test func theQuietBaselineIsTheQuietestSecondAndOneDisturbedSecondTakesNothingOffTheOthers() throws {
        // Five quiet seconds, the third disturbed (the hypervisor's steal): the baseline is the
        // quietest second's, each figure per second of it, and every second's busy time is kept.
        let slices = [0.06, 0.05, 0.40, 0.07, 0.055].map { busy in
            LoadCalibration.QuietSlice(seconds: 1.0, server: 0.004, redis: 0.01, kernel: busy > 0.3 ? 0.3 : 0.004, machine: busy)
        } + [LoadCalibration.QuietSlice(seconds: 0, server: 0, redis: 0, kernel: 0, machine: 0)]
        let (baseline, index) = try #require(LoadCalibration.Baseline.quietest(slices, loadGeneratorRun: 0.14))
        #expect(index == 1 && baseline.machinePerSecond == 0.05 && baseline.kernelPerSecond == 0.004 && baseline.loadGeneratorRun == 0.14)
        #expect(baseline.slicesMachinePerSecond == [0.06, 0.05, 0.40, 0.07, 0.055, 0], "a slice of no time reads 0 and is never chosen")
        #expect(LoadCalibration.Baseline.quietest([], loadGeneratorRun: 0) == nil)
        // The recorded phases with the disturbed second as their baseline: its steal comes off
        // every phase, so every operation's demand falls, and the others' CPU the fit gives each
        // journey's rate (its multiplier times the demand of its requests: the phase's own) is
        // short by the disturbance, whatever the rate; the server's figures do not move.
        let run = try Self.recorded()
        var disturbed = run
        disturbed.baseline.kernelPerSecond = run.baseline.kernelPerSecond + 0.3
        let (quiet, noisy) = (try run.fit(), try disturbed.fit())
        #expect(quiet.server == noisy.server)
        #expect(noisy.others.allSatisfy { op, ms in ms < (quiet.others[op] ?? 0) }, "\(quiet.others) against \(noisy.others)")
        func predictedOthers(_ fit: LoadCalibration.Fit, _ journey: LoadCalibration.Phase) throws -> Double {
            let point = try #require(fit.byRate.first { abs($0.rate - journey.requestsPerSecond) < 1e-9 })
            return point.others * journey.requests.reduce(0) { $0 + $1.value * (fit.others[$1.key] ?? 0) / 1000 }
        }
        for journey in run.journeys {
            let short = try predictedOthers(quiet, journey) - predictedOthers(noisy, journey)
            #expect(abs(short - 0.3 * journey.seconds) < 1e-6, "\(journey.requestsPerSecond) requests/s: \(short)")
        }
    }

    @Test func withTheLoadGeneratorOnItsOwnCoreItIsNotPartOfTheDemand() throws {
        // The recorded phases as if k6 had run pinned apart: each operation's demand is the others'
        // CPU less k6's (no k6 baseline to take off), and the server's own figures do not change.
        let shared = try Self.recorded()
        var split = shared
        split.loadGeneratorApart = true
        let (a, b) = (try shared.fit(), try split.fit())
        #expect(a.server == b.server)
        let view = try #require(split.phases.first { $0.name == "view" })
        let quiet = (split.baseline.kernelPerSecond + split.baseline.redisPerSecond) * view.seconds
        let expected = (view.redis + view.interrupts + view.steal - quiet) / (view.requests["viewDeal"] ?? 1) * 1000
        #expect(abs(try #require(b.others["viewDeal"]) - expected) < 1e-6, "\(b.others)")
        #expect(b.others.allSatisfy { op, ms in ms <= (a.others[op] ?? 0) + 1e-9 }, "\(a.others) against \(b.others)")
    }

    @Test func leastSquaresFindsKnownFiguresAndNeverANegativeOne() throws {
        // Three operations at 2, 0.5 and 1 ms, five phases of mixed requests, exact CPU.
        let truth = ["a": 2.0, "b": 0.5, "c": 1.0]
        let mixes: [[String: Double]] = [["a": 100], ["b": 300], ["a": 50, "c": 50], ["b": 10, "c": 200], ["a": 10, "b": 10, "c": 10]]
        let phases = mixes.enumerated().map { i, mix in
            LoadCalibration.Phase(
                name: "p\(i)", seconds: 10, requests: mix, server: mix.reduce(0) { $0 + $1.value * truth[$1.key]! / 1000 } + 0.01 * 10,
                loadGenerator: 0.2, redis: 0, machine: 0, interrupts: 0, steal: 0, wakeUp: .init(samples: []))
        }
        let none = LoadCalibration.WakeUp(samples: [])
        let run = LoadCalibration(
            rate: 100, phases: phases, journeys: [phases[4]], baseline: .init(serverPerSecond: 0.01, redisPerSecond: 0, kernelPerSecond: 0.01, loadGeneratorRun: 0.2),
            wakeUpQuiet: none, machine: "test", placement: "test")
        let fit = try run.fit()
        for (op, ms) in truth { #expect(abs(fit.server[op]! - ms) < 1e-9, "\(op): \(fit.server[op]!)") }
        #expect(abs(fit.byRate[0].server - 1) < 1e-9 && fit.byRate[0].rate == 3)
        // A column the data would make negative is held at zero and the rest refitted.
        let x = try LoadCalibration.nonNegativeLeastSquares([[1, 1], [1, 1.01], [2, 2]], [1, 0.99, 2])
        #expect(x.allSatisfy { $0 >= 0 } && abs(x[0] + x[1] - 1) < 0.01, "\(x)")
        #expect(throws: LoadTestError.self) { try LoadCalibration.leastSquares([[1, 1], [2, 2]], [1, 2]) }
    }

    @Test func eachOperationsSpreadIsTheShapeOfItsTimeInTheQuietJourneys() throws {
        // A lognormal with σ 0.8 shifted by 2 ms (the round trips): its 5th, 50th and 95th
        // percentiles give back its spread, √(e^{0.64} − 1), whatever the shift and the scale.
        let z = 1.644_853_6, sigma = 0.8
        func q(_ shift: Double, _ scale: Double, sigma: Double = sigma) -> LoadCalibration.Quantiles {
            .init(p5: shift + scale * exp(-z * sigma), p50: shift + scale, p95: shift + scale * exp(z * sigma))
        }
        let cv = (exp(sigma * sigma) - 1).squareRoot()
        let (shifted, unshifted) = (try #require(q(2, 0.7).shiftedLognormalCV), try #require(q(0, 3).shiftedLognormalCV))
        #expect(abs(shifted - cv) < 1e-9 && abs(unshifted - cv) < 1e-9)
        #expect(LoadCalibration.Quantiles(p5: 1, p50: 2, p95: 2.5).shiftedLognormalCV == nil, "a tail shorter than the head says nothing")
        // The spread is the smallest shape among the quieter half of the journeys (the lowest
        // rates): the quietest one disturbed (a longer tail) gives way to the next, and the busier
        // ones do not count, whatever their shape. An operation with too few requests in each keeps
        // the default.
        var run = try Self.recorded()
        let rates = run.journeys.map(\.requestsPerSecond)
        let order = rates.indices.sorted { rates[$0] < rates[$1] }
        try #require(order.count >= 4)
        for i in run.journeys.indices {
            let shape = i == order[0] ? q(1, 0.5, sigma: 1.2) : i == order[1] ? q(1, 0.5) : q(5, 4, sigma: 0.4)
            run.journeys[i].latency = ["viewDeal": shape, "placeOrder": q(1, 1)]
            run.journeys[i].requests["placeOrder"] = 50
        }
        let spread = try run.fit().spread
        #expect(abs(try #require(spread["viewDeal"]) - cv) < 1e-9, "\(spread)")
        #expect(spread["placeOrder"] == LoadCalibration.defaultSpread && spread["payOrder"] == LoadCalibration.defaultSpread, "\(spread)")
    }

    @Test func aRunsCoresAreItsCPUSecondsOverItsArrivalWindow() throws {
        // 30 s of arrivals: the server 24 CPU-seconds, k6 12, Redis 6, interrupts 2.4 and steal 0.6.
        let machine = MachineCPU(busy: 60, interrupts: 2.4, steal: 0.6)
        let shared = try #require(LoadTestRunner.cores(server: 24, loadGenerator: 12, redis: 6, machine: machine, over: 30))
        #expect(abs(shared.server - 0.8) < 1e-9 && abs(shared.requestPath - 1.5) < 1e-9, "\(shared)")
        // k6 on a core of its own (passed as 0) is not on the request path's cores.
        let apart = try #require(LoadTestRunner.cores(server: 24, loadGenerator: 0, redis: 6, machine: machine, over: 30))
        #expect(abs(apart.requestPath - 1.1) < 1e-9)
        #expect(LoadTestRunner.cores(server: 1, loadGenerator: 1, redis: 1, machine: machine, over: 0) == nil)
    }

    @Test func wakeUpPercentilesComeFromTheSamples() {
        let w = LoadCalibration.WakeUp(samples: (1...100).map(Double.init))
        #expect(w.samples == 100 && w.meanUs == 50.5 && w.p50Us == 51 && w.p95Us == 96 && w.p99Us == 100)
    }
}

/// The validation grid's pieces: the table with no fitted factor and its per-metric targets, the
/// saturation search on both sides, and the placement each measured run records.
@Suite struct ValidationGridTests {
    @Test func withNoFitTheTableSaysSoAndJudgesEachMetricByItsTarget() throws {
        let predicted = try LoadTestTests.predicted(), measured = try LoadTestTests.measured()
        let comparison = Comparison(predicted: predicted, measured: [measured])
        let text = LevelValidation(fit: nil, calibratedOn: "smoke", levels: [.init(offeredRps: 500, comparison: comparison)])
            .markdown(date: "2026-12-02", machine: "test machine")
        #expect(text.contains("No fitted factor") && !text.contains("scaled by"))
        #expect(text.contains("| target |") && text.contains("±25%") && text.contains("±10%"))
        // Each row's mark agrees with its error and its metric's target.
        for row in comparison.rows where LevelValidation.metrics.contains(row.metric) {
            let holds = LevelValidation.holds(row)
            #expect(text.contains("| \(row.metric) |"))
            if let error = row.relativeError, row.metric != "error rate (%)" { #expect(holds == (abs(error) <= LevelValidation.target(row.metric))) }
        }
        let misses = comparison.rows.filter { LevelValidation.metrics.contains($0.metric) && !LevelValidation.holds($0) }
        #expect(text.contains(misses.isEmpty ? "every metric within its target" : "outside the target"))
        // An error rate the model puts at 12% where none was measured is a miss, not an n/a.
        func errorRow(_ predicted: Double, _ measured: Double) throws -> Comparison.Row {
            var row = try #require(comparison.rows.first { $0.metric == "error rate (%)" })
            row.predicted.mean = predicted
            row.measured.mean = measured
            row.relativeError = measured > 0 ? (predicted - measured) / measured : nil
            return row
        }
        let (missed, bothLow, close) = (try errorRow(12.4, 0), try errorRow(0.05, 0), try errorRow(2.05, 2))
        #expect(!LevelValidation.holds(missed) && LevelValidation.holds(bothLow) && LevelValidation.holds(close))
        #expect(LevelValidation.target("all P99 (ms)") == 0.25 && LevelValidation.target("throughput (rps)") == 0.10 && LevelValidation.target("all P95 (ms)") == 0.15)
    }

    @Test func theSaturationSearchStepsUntilALevelFailsOnEachSide() async throws {
        let smoke = try LoadTestTests.smoke
        let search = SaturationSearch(scenario: smoke, from: 1000, step: 500, to: 4000)
        #expect(search.rates == [1000, 1500, 2000, 2500, 3000, 3500, 4000])
        let level = search.level(2000)
        #expect(abs(level.peakRequestsPerSecond - 2000) < 1e-6 && level.traffic.duration == smoke.traffic.duration)
        // A side whose P95 passes 150 ms above 2,600 requests/s, read from the level it is given.
        func side(_ limit: Double) async -> SaturationSearch.Side {
            await search.search { level in
                var run = try! LoadTestTests.measured()
                run.overall.p95Ms = level.peakRequestsPerSecond > limit ? 400 : 40
                run.rates.errorRate = 0
                return [run]
            }
        }
        let predicted = await side(2600), measured = await side(2300)
        #expect(predicted.steps.map(\.rps) == [1000, 1500, 2000, 2500, 3000] && predicted.saturation == 2500)
        #expect(measured.saturation == 2000 && measured.steps.last?.holds == false)
        let text = SaturationSearch.markdown(name: "smoke", predicted: predicted, measured: measured, p95BarMs: 150)
        #expect(text.contains("predicted 2500 rps, measured 2000 rps (+25%, outside the ±10% target)"))
        #expect(text.contains("| 3000 | 400 | 0.00% | – | – | – |"))
        #expect(SaturationSearch.markdown(name: "s", predicted: predicted, measured: .init(), p95BarMs: 150).contains("predicted 2500 rps (not measured)."))
    }

    @Test func eachMeasuredRunRecordsWhereTheProcessesRan() {
        #expect(RunMachine.label(environment: [:]) == "k6, shared" && RunMachine.label(environment: ["FLASHDEAL_PIN": "split"]) == "k6, split")
        #expect(RunMachine.describe(environment: ["FLASHDEAL_PIN": "split"]).hasSuffix("the API on core 0 and the load generator on core 1 (FLASHDEAL_PIN=split)"))
        #expect(RunMachine.describe(environment: [:]).hasSuffix("every process sharing every core"))
        #expect(RunMachine.label(before: "bash scripts/live-server.sh restart validate 1 o", environment: [:])
            == "k6, shared, after `bash scripts/live-server.sh restart validate 1 o`")
    }

    /// `--before-run`: the command runs to its end before k6 starts; one that fails stops the
    /// measurement, naming the command, its status and what it said.
    @Test func theCommandBeforeARunRunsToItsEndOrStopsTheMeasurement() throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("before-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        try LoadTestRunner.shell("sleep 0.2; echo started > '\(marker)'")
        #expect((try? String(contentsOfFile: marker, encoding: .utf8)) == "started\n")
        // A process the command leaves running (its output elsewhere, as a server's goes to its
        // log) does not hold the run up: the command's end is the end.
        let start = Date()
        try LoadTestRunner.shell("sleep 30 >/dev/null 2>&1 & echo $! > '\(marker)'")
        #expect(Date().timeIntervalSince(start) < 20, "waited for the process the command left running")
        if let pid = Int32((try? String(contentsOfFile: marker, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") { kill(pid, SIGKILL) }
        let error = #expect(throws: LoadTestError.self) { try LoadTestRunner.shell("echo the server never became ready >&2; exit 3") }
        #expect("\(error!)".contains("--before-run 'echo the server never became ready >&2; exit 3' exited with status 3: the server never became ready"), "\(error!)")
    }
}
