import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import Live
import LiveAPI
import LiveTools
import LoadTest
import Logging
import ServiceLifecycle
import Testing

/// `flashdeal calibrate` on the real backends: every backend probe times something, and the load
/// phases (the real k6 against the live server's composition) give every operation of the
/// simulator a CPU per request from the server's own `process_cpu_seconds_total`, with k6's and
/// Redis's CPU and the wake-up delay measured beside it.
@Suite(.enabled(if: Backends.allThere && Backends.k6 != nil))
struct CalibrationTests {
    @Test func probesTimeEveryBackendAndTheLoadPhasesEveryOperation() async throws {
        // One process in both roles, as `serve` runs by default: the writer's relay and consumer
        // run, and its series are on the same `/metrics`, which calibrate watches as the writer's.
        let configuration = try Backends.liveConfiguration()
        let metrics = ShopMetrics()
        let composition = try await ShopServer.compose(configuration, metrics: metrics, logger: Logger(label: "test"))
        let services = ServiceGroup(services: composition.services, logger: Logger(label: "test"))
        let running = Task { try await services.run() }
        let shop = Shop(ports: composition.ports)
        let tag = configuration.redis.keyPrefix
        let probes = try await BackendProbes(
            redisURL: try #require(configuration.redis.url), kafkaBrokers: try #require(configuration.kafka.brokers),
            mongoURI: try #require(configuration.mongo.uri), tag: tag)
        defer { probes.close() }
        let operations = try await OperationProbes(shop: shop, tag: tag)
        let ping = try await probes.time(20) { try await probes.ping() }
        let gate = try await probes.time(20) { try await operations.reserveDirect() }
        let produce = try await probes.time(3) { try await probes.produce(50) }
        let insert = try await probes.time(3) { try await probes.insert(100) }
        #expect(ping.mean > 0 && gate.mean > 0 && produce.mean > 0 && insert.mean > 0)
        let stock = try #require(try await shop.ports.ledger.stock(DealID(generated: "probe-\(tag)")))
        let probeOrders = Double(stock.inventory.reserved + stock.inventory.sold)
        #expect(probeOrders > 0, "the probes really placed orders")

        let router = try ShopRouter(shop: shop, metrics: metrics, hub: composition.hub)
        let app = Application(router: router.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let target = "http://127.0.0.1:\(try #require(client.port))"
            let runner = LoadCalibrationRunner(
                target: target, k6: try #require(Backends.k6),
                script: K6SmokeTests.root.appendingPathComponent("k6/calibrate.js").path,
                admin: try await Authenticator.bearer("admin", admin: true), secret: Authenticator.developmentSecret, rate: 40, phaseSeconds: 3, journeyRates: [60, 150],
                workDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-calibrate-\(tag)").path,
                machine: "test", placement: "shared", writer: target
            ) { try await probes.redisCPU() }
            let load = try await runner.run()
            #expect(load.phases.map(\.name) == LoadCalibrationRunner.phases)
            let pay = try #require(load.phases.first { $0.name == "pay" })
            #expect((pay.requests["placeOrder"] ?? 0) > 50 && pay.requests["placeOrder"] == pay.requests["payOrder"], "\(pay.requests)")
            #expect(load.phases.allSatisfy { $0.server > 0 && $0.loadGenerator > 0 && $0.redis > 0 }, "\(load.phases)")
            #expect(load.wakeUpQuiet.samples > 100 && load.phases.allSatisfy { $0.wakeUp.samples > 100 })
            let fit = try load.fit()
            #expect(Set(fit.server.keys) == ["listDeals", "viewDeal", "placeOrder", "payOrder", "cancelOrder", "orderStatus"])
            #expect(fit.loadGenerator.values.contains { $0 > 0 } && fit.redis.values.contains { $0 > 0 })
            #expect(load.journeys.count == 2 && fit.byRate.count == 2 && fit.byRate[0].rate < fit.byRate[1].rate)
            // Every order a phase placed is a new one (no phase replays an earlier phase's buyer
            // and key): the units taken are the orders placed less those cancelled.
            let placed = (load.phases + load.journeys).reduce(0) { $0 + ($1.requests["placeOrder"] ?? 0) }
            let cancelled = (load.phases + load.journeys).reduce(0) { $0 + ($1.requests["cancelOrder"] ?? 0) }
            let dealID = DealID(generated: try #require(load.deal))
            let stock = try #require(try await shop.ports.ledger.stock(dealID))
            #expect(Double(stock.inventory.reserved + stock.inventory.sold) == placed - cancelled, "\(stock.inventory), \(placed) placed, \(cancelled) cancelled")
            // k6's time quantiles of each operation, which give its spread.
            #expect(load.journeys.allSatisfy { j in (j.latency?["viewDeal"]).map { 0 < $0.p5 && $0.p5 <= $0.p50 && $0.p50 <= $0.p95 } ?? false }, "\(load.journeys.map(\.latency))")
            #expect(Set(fit.spread.keys) == Set(fit.server.keys) && fit.spread.values.allSatisfy { (0.1...3).contains($0) }, "\(fit.spread)")
            // The server here is this test process, whose other suites run beside it: its quiet
            // baseline can swallow a light phase's CPU, so only k6's side is sure to show.
            #expect(fit.byRate.allSatisfy { $0.server >= 0 && $0.others > 0 }, "\(fit.byRate)")
            // The journeys ran first, then the writer caught up, then the operation phases: what the
            // writer had written when it caught up is the journeys' events and the probes' orders
            // above, at most four a mutation (a payment's requested, completed, stock confirmed and
            // order paid), none of the phases'. The writer may have kept up with the journeys, so
            // the catch-up itself can find nothing left to write (CI saw it once): what it must show
            // is nothing waiting and at least each journey order's placement written.
            let drain = try #require(load.writerDrain)
            let written = try #require(drain.samples.last?.written)
            let journeyOrders = load.journeys.reduce(0) { $0 + ($1.requests["placeOrder"] ?? 0) }
            #expect(drain.samples.last?.backlog == 0 && journeyOrders > 0 && written >= journeyOrders, "\(written) written for \(journeyOrders) journey orders, \(drain.samples.last.map { "\($0)" } ?? "no sample")")
            let mutations = load.journeys.reduce(0) { total, journey in
                total + ["placeOrder", "payOrder", "cancelOrder"].reduce(0) { $0 + (journey.requests[$1] ?? 0) }
            }
            #expect(written <= 4 * (mutations + probeOrders), "\(written) messages written when the writer caught up, for \(mutations) journey mutations and \(probeOrders) probe orders")
            // The operation phases came after: the writer wrote their orders after that catch-up.
            let after = try #require(try await WriterProbe(writer: target).watch().samples.last?.written)
            let phaseOrders = load.phases.reduce(0) { $0 + ($1.requests["placeOrder"] ?? 0) }
            #expect(phaseOrders > 0 && after - written >= phaseOrders, "\(after - written) messages written after the catch-up for \(phaseOrders) orders in the phases")
        }
        await services.triggerGracefulShutdown()
        try await running.value
    }
}
