import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import Live
import LiveAPI
import LiveTools
import LoadTest
import Logging
import ResultsStore
import Sim
import Testing

/// `make test`'s real k6 run: `experiments/smoke.json` (a few seconds of light traffic) through the
/// real k6 binary against the live server's composition on the real backends, imported into a
/// results store as a measured run and compared with the simulator's prediction.
@Suite(.enabled(if: Backends.allThere && Backends.k6 != nil))
struct K6SmokeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func aShortK6RunAgainstTheLiveServerLandsInTheStore() async throws {
        let composition = try await ShopServer.compose(try Backends.liveConfiguration(), logger: Logger(label: "test"))
        let router = try ShopRouter(shop: Shop(ports: composition.ports), hub: composition.hub)
        let app = Application(router: router.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let scenario = try Scenario.load(path: Self.root.appendingPathComponent("experiments/smoke.json").path)
        let redis = try await RedisCPUProbe(url: try #require(Backends.redisURL))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let runner = LoadTestRunner(
                scenario: scenario, target: "http://127.0.0.1:\(port)", k6: try #require(Backends.k6),
                script: Self.root.appendingPathComponent("k6/scenario.js").path,
                workDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-k6").path,
                admin: try await Authenticator.bearer("admin", admin: true), secret: Authenticator.developmentSecret,
                redisCPU: { [redis] in try await redis.cpu() })
            let measured = try await runner.run(tag: "t\(UInt32.random(in: 0...UInt32.max))")
            // The cores the run kept busy: the server here is this test process, k6 and Redis beside it.
            let cores = try #require(measured.cores, "the run read the server's, k6's and Redis's CPU")
            #expect(cores.server > 0 && cores.requestPath > cores.server, "\(cores)")
            #expect(measured.overall.requests > 50, "k6 sent \(measured.overall.requests) requests")
            #expect(measured.rates.errorRate == 0, "faults: \(measured.overall.errors)")
            #expect(measured.orders.accepted > 0)  // more than the 25 units when cancelled orders give units back
            #expect(measured.orders.oversoldUnits == 0 && measured.orders.conservationHolds)
            #expect(measured.operations.contains { $0.name == "placeOrder" && $0.p95Ms > 0 })

            let store = try ResultsStore()
            let id = try store.save(measured, scenario: scenario, kind: .measured, label: RunMachine.label())
            let (run, stored) = try #require(try store.run(id))
            #expect(run.kind == .measured && run.scenarioHash == scenario.hash && stored.overall.requests == measured.overall.requests)
            #expect(run.label == RunMachine.label() && run.label.hasPrefix("k6, "), "the run records where k6 and the server ran")

            let comparison = Comparison(predicted: Simulator.replicate(scenario, count: 3), measured: [stored])
            #expect(comparison.rows.contains { $0.metric == "all P95 (ms)" })
            #expect(comparison.table().contains("Predicted (3 replications) against measured (1 k6 run)"))
        }
    }
}
