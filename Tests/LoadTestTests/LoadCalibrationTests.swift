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

    @Test func leastSquaresFindsKnownFiguresAndNeverANegativeOne() throws {
        // Three operations at 2, 0.5 and 1 ms, five phases of mixed requests, exact CPU.
        let truth = ["a": 2.0, "b": 0.5, "c": 1.0]
        let mixes: [[String: Double]] = [["a": 100], ["b": 300], ["a": 50, "c": 50], ["b": 10, "c": 200], ["a": 10, "b": 10, "c": 10]]
        let phases = mixes.enumerated().map { i, mix in
            LoadCalibration.Phase(
                name: "p\(i)", seconds: 10, requests: mix, server: mix.reduce(0) { $0 + $1.value * truth[$1.key]! / 1000 } + 0.01 * 10,
                loadGenerator: 0.2, redis: 0)
        }
        let none = LoadCalibration.WakeUp(samples: [])
        let run = LoadCalibration(
            rate: 100, phases: phases, journeys: [phases[4]], baseline: .init(serverPerSecond: 0.01, redisPerSecond: 0, loadGeneratorRun: 0.2),
            wakeUpQuiet: none, wakeUpLoaded: none, machine: "test", placement: "test")
        let fit = try run.fit()
        for (op, ms) in truth { #expect(abs(fit.server[op]! - ms) < 1e-9, "\(op): \(fit.server[op]!)") }
        #expect(abs(fit.byRate[0].server - 1) < 1e-9 && fit.byRate[0].rate == 3)
        // A column the data would make negative is held at zero and the rest refitted.
        let x = try LoadCalibration.nonNegativeLeastSquares([[1, 1], [1, 1.01], [2, 2]], [1, 0.99, 2])
        #expect(x.allSatisfy { $0 >= 0 } && abs(x[0] + x[1] - 1) < 0.01, "\(x)")
        #expect(throws: LoadTestError.self) { try LoadCalibration.leastSquares([[1, 1], [2, 2]], [1, 2]) }
    }

    @Test func wakeUpPercentilesComeFromTheSamples() {
        let w = LoadCalibration.WakeUp(samples: (1...100).map(Double.init))
        #expect(w.samples == 100 && w.meanUs == 50.5 && w.p50Us == 51 && w.p95Us == 96 && w.p99Us == 100)
    }
}
