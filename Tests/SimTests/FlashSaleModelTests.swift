import Foundation
import ResultsStore
import Sim
import Testing

@Suite struct FlashSaleModelTests {
    /// Same scenario and seed: byte-identical JSON once `timing` is removed; another seed differs.
    @Test func runsAreDeterministic() throws {
        let scenario = try Fixtures.shortSpike()
        func bytes(_ seed: UInt64) throws -> Data {
            var r = Simulator.run(scenario, seed: seed)
            #expect(r.timing != nil)
            r.timing = nil
            return try r.json()
        }
        #expect(try bytes(5) == (try bytes(5)))
        #expect(try bytes(5) != (try bytes(6)))
    }

    /// The Domain's rules hold under spikes: over 20 seeds, nothing oversold, stock conserved, no
    /// user over the limit, every reservation ended paid, released or expired.
    @Test func domainRulesHoldUnderSpikes() throws {
        let scenario = try Fixtures.shortSpike()
        let runs = Simulator.replicate(scenario, count: 20)
        for r in runs {
            #expect(r.orders.oversoldUnits == 0, "seed \(r.seed)")
            #expect(r.orders.conservationHolds, "seed \(r.seed)")
            #expect(r.orders.perUserLimitHolds, "seed \(r.seed)")
            #expect(r.orders.unresolvedReservations == 0, "seed \(r.seed)")
            #expect(r.orders.accepted == r.orders.paid + r.orders.expired + r.orders.cancelled, "seed \(r.seed)")
            #expect(r.orders.soldUnits <= r.orders.totalUnits)
            #expect(r.orders.soldOutAtSeconds != nil, "the spike sells out (seed \(r.seed))")
        }
        #expect(Set(runs.map(\.seed)).count == 20)
    }

    /// The simulator follows the live server's payment: three Redis round trips around the
    /// provider (the order read, the opening, the completion with its outbox entry inside it), so
    /// with nothing else taking time a payment takes three round trips plus the provider's latency.
    @Test func theSimulatorEnforcesTheReservationCapThroughTheDomain() throws {
        // Few buyers, many of whom do not pay: each comes back, and with a cap of one unpaid
        // reservation the ones who left one open are refused.
        var open = try Fixtures.shortSpike()
        open.traffic.users = 200
        open.traffic.journey.payProbability = 0.3
        open.deals[0].perUserLimit = 5
        var capped = open
        capped.deals[0].reservationCap = 1
        let free = Simulator.run(open, seed: 3), held = Simulator.run(capped, seed: 3)
        #expect(held.orders.limitAnswers > free.orders.limitAnswers + 50, "capped \(held.orders.limitAnswers), not \(free.orders.limitAnswers)")
        #expect(held.orders.accepted < free.orders.accepted)
        #expect(held.orders.oversoldUnits == 0 && held.orders.conservationHolds && held.orders.perUserLimitHolds)
    }

    @Test func aPaymentIsThreeRedisRoundTripsAndARefundFourAroundTheProvider() throws {
        var scenario = try Fixtures.shortSpike()
        scenario.http.cpu = scenario.http.cpu.map { _ in .constantMs(0.001) }
        scenario.network.clientRTT = .constantMs(0)
        scenario.network.backendRTT = .constantMs(2)
        scenario.redis.gateService = .constantMs(0.001)
        scenario.redis.readService = .constantMs(0.001)
        scenario.redis.poolSizePerReplica = 100_000
        scenario.payment.latency = .constantMs(20)
        scenario.payment.declineRate = 0
        scenario.autoscaling = nil
        let r = Simulator.run(scenario)
        let pay = try #require(r.operations.first { $0.name == "payOrder" })
        #expect(pay.requests > 100)
        #expect(abs(pay.p50Ms - 26) < 0.1 && abs(pay.p95Ms - 26) < 0.1, "payOrder P50 \(pay.p50Ms) ms, P95 \(pay.p95Ms) ms")
        // The journey cancels only paid orders: a refund is the order read, the payment read, the
        // claim, the provider and the refund's step: four round trips around the provider.
        let cancel = try #require(r.operations.first { $0.name == "cancelOrder" })
        #expect(cancel.requests > 0 && cancel.requests == cancel.ok)
        #expect(abs(cancel.p50Ms - 28) < 0.1 && abs(cancel.p95Ms - 28) < 0.1, "cancelOrder P50 \(cancel.p50Ms) ms, P95 \(cancel.p95Ms) ms")
    }

    @Test func evenlySpacedArrivalsLowerTheTail() throws {
        // The same load as a Poisson stream and evenly spaced: only the arrival process differs.
        let base = try Fixtures.experiment("mmc-validation.json")
        var even = base
        even.traffic.process = .evenlySpaced
        let poisson = Simulator.run(base), spaced = Simulator.run(even)
        #expect(spaced.overall.p95Ms < poisson.overall.p95Ms * 0.9, "evenly spaced \(spaced.overall.p95Ms) vs Poisson \(poisson.overall.p95Ms)")
        #expect(abs(spaced.throughput.offeredRps - poisson.throughput.offeredRps) / poisson.throughput.offeredRps < 0.02)
    }

    @Test func overloadShowsTheBottleneckAndTimeOuts() throws {
        var scenario = try Fixtures.shortSpike()
        scenario.http.cpu = scenario.http.cpu.map { _ in .constantMs(3) }  // CPU-bound: ~1 req/3 ms per core
        scenario.autoscaling = nil
        let r = Simulator.run(scenario)
        #expect(r.bottleneck.resource == "http.cpu")
        #expect(r.series.utilisation["http.cpu"]!.max()! > 0.95, "the CPU saturates during the spike")
        #expect(r.rates.timeoutRate > 0 || r.rates.errorRate > 0)
        #expect(r.orders.oversoldUnits == 0)
    }

    @Test func autoscalerAddsReplicasUnderASpike() throws {
        var scenario = try Fixtures.shortSpike()
        scenario.http.cpu = scenario.http.cpu.map { _ in .constantMs(2) }
        scenario.autoscaling?.syncPeriod = 2_000_000_000
        scenario.autoscaling?.podStartup = 3_000_000_000
        let r = Simulator.run(scenario)
        #expect(r.replicas.max > r.replicas.initial)
        #expect(r.replicas.firstScaleUpAtSeconds != nil)
        #expect(r.series.readyReplicas.max()! > Double(r.replicas.initial))
    }

    @Test func hpaArithmeticFollowsKubernetes() {
        #expect(HPAPolicy.recommend(current: 4, utilisation: 0.9, target: 0.6, tolerance: 0.1) == 6)
        #expect(HPAPolicy.recommend(current: 4, utilisation: 0.63, target: 0.6, tolerance: 0.1) == 4)
        #expect(HPAPolicy.recommend(current: 4, utilisation: 0.2, target: 0.6, tolerance: 0.1) == 2)
        let policies: [Scenario.ScalePolicy] = [.init(kind: .pods, value: 4, period: 15_000_000_000), .init(kind: .percent, value: 100, period: 15_000_000_000)]
        #expect(HPAPolicy.scaleUpLimit(current: 2, policies: policies, recent: [], now: 0) == 6)
        #expect(HPAPolicy.scaleUpLimit(current: 10, policies: policies, recent: [], now: 0) == 20)
    }

    /// Little's law on every station of a flash-sale run: the integrated queue length equals the
    /// sum of the waits of everyone who queued.
    @Test func littlesLawHoldsOnEveryStation() throws {
        var model = FlashSaleModel(scenario: try Fixtures.shortSpike())
        let stats = model.run()
        let checks = model.littleChecks()
        #expect(!checks.isEmpty)
        for (name, area, waits) in checks {
            #expect(abs(area - waits) <= 1e-6 * max(1, waits), "\(name): ∫queue \(area) vs Σwait \(waits)")
        }
        _ = stats
    }

    @Test func resultsStoreKeepsRunsAndExports() throws {
        let scenario = try Fixtures.shortSpike()
        let store = try ResultsStore()
        let r = Simulator.run(scenario)
        let id = try store.save(r, scenario: scenario)
        let (stored, result) = try #require(try store.run(id))
        #expect(stored.scenarioHash == scenario.hash && stored.kind == .predicted)
        #expect(result.overall == r.overall)
        #expect(try store.metric(run: id, operation: "all", name: "p95Ms") == r.overall.p95Ms)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-export-\(UInt64.random(in: 0...UInt64.max))").path
        let files = try store.exportCSV(to: dir)
        #expect(files.count == 3)
        let series = try String(contentsOfFile: files[2], encoding: .utf8)
        #expect(series.hasPrefix("run_id,name,second,value\n"))
        #expect(series.contains("\(id),p95Ms,0,"))
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// The console's prediction for a deal: the newest predicted run of a scenario that sells it.
    @Test func aDealsPredictionIsTheNewestRunOfAScenarioThatSellsIt() throws {
        let scenario = try Fixtures.shortSpike()
        let deal = try #require(scenario.deals.first).id
        let store = try ResultsStore()
        #expect(try store.prediction(forDeal: deal) == nil)
        let first = try store.save(Simulator.run(scenario), scenario: scenario)
        let r = Simulator.run(scenario)
        let newest = try store.save(r, scenario: scenario)
        let prediction = try #require(try store.prediction(forDeal: deal))
        #expect(prediction.runID == newest && newest != first && prediction.scenario == scenario.name)
        #expect(prediction.p95Ms == r.overall.p95Ms && prediction.ordersAccepted == Double(r.orders.accepted))
        #expect(prediction.kafkaMaxLag == Double(r.kafka.maxLag) && prediction.soldOutAtSeconds == r.orders.soldOutAtSeconds)
        #expect(try store.prediction(forDeal: deal + "-other") == nil, "no scenario sells it")
    }
}
