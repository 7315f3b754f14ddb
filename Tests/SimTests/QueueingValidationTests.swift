import Sim
import Testing

/// The engine against closed-form queueing theory: over replications, the simulated value lies
/// inside the 95% confidence interval and within 2% of the formula.
@Suite struct QueueingValidationTests {
    static let replications = 12
    static let customers = 150_000

    /// Runs a tandem model `replications` times with independent seeds.
    static func replicate(_ stages: [TandemQueueModel.Stage], interarrival: Distribution, seed: UInt64) -> [TandemQueueModel.Result] {
        (0..<replications).map { i in
            var model = TandemQueueModel(
                stages: stages, interarrival: interarrival, customers: customers,
                seed: RandomStreams.replicationSeed(base: seed, index: i))
            return model.run()
        }
    }

    static func check(_ values: [Double], against formula: Double, _ what: String) {
        let ci = ConfidenceInterval(values)
        #expect(ci.contains(formula), "\(what): formula \(formula) outside 95% CI \(ci.low)...\(ci.high)")
        #expect(abs(ci.mean - formula) <= 0.02 * formula, "\(what): mean \(ci.mean) more than 2% from \(formula)")
    }

    @Test func mm1() {
        // λ = 0.7, μ = 1 (times in ms): Wq = ρ/(μ−λ), P(wait) = ρ
        let runs = Self.replicate([.init(servers: 1, service: .exponentialMs(1))], interarrival: .exponentialMs(1 / 0.7), seed: 11)
        Self.check(runs.map { $0.meanWait[0] / 1e6 }, against: 0.7 / 0.3, "M/M/1 mean wait")
        Self.check(runs.map { $0.waitProbability[0] }, against: 0.7, "M/M/1 P(wait)")
    }

    @Test func mmcErlangC() {
        // c = 4, ρ = 0.8
        let s = 1.0, λ = 3.2
        let runs = Self.replicate([.init(servers: 4, service: .exponentialMs(s))], interarrival: .exponentialMs(1 / λ), seed: 12)
        Self.check(runs.map { $0.meanWait[0] / 1e6 }, against: QueueingTheory.mmcWait(servers: 4, arrivalRate: λ, meanService: s), "M/M/4 mean wait")
        Self.check(runs.map { $0.waitProbability[0] }, against: QueueingTheory.erlangC(servers: 4, load: λ * s), "M/M/4 P(wait)")
    }

    @Test func md1PollaczekKhinchine() {
        let runs = Self.replicate([.init(servers: 1, service: .constantMs(1))], interarrival: .exponentialMs(1 / 0.7), seed: 13)
        Self.check(runs.map { $0.meanWait[0] / 1e6 }, against: QueueingTheory.md1Wait(arrivalRate: 0.7, service: 1), "M/D/1 mean wait")
    }

    @Test func mm1kDropRate() {
        // K = 5 in the system (1 in service, 4 waiting), ρ = 0.9
        let runs = Self.replicate([.init(servers: 1, queueLimit: 4, service: .exponentialMs(1))], interarrival: .exponentialMs(1 / 0.9), seed: 14)
        Self.check(runs.map { $0.dropRate[0] }, against: QueueingTheory.mm1kDrop(capacity: 5, load: 0.9), "M/M/1/5 drop rate")
    }

    /// Little's law: the time-average number in the system (integrated) equals λ·W (per customer).
    @Test(arguments: [0.5, 0.9])
    func littlesLaw(_ rho: Double) {
        var model = TandemQueueModel(
            stages: [.init(servers: 8, service: .exponentialMs(8)), .init(servers: 1, queueLimit: 20, service: .exponentialMs(0.5))],
            interarrival: .exponentialMs(1 / rho), customers: 50_000, seed: 15)
        let r = model.run()
        let lw = r.arrivalRate * r.meanSojourn
        #expect(abs(r.timeAverageInSystem - lw) <= 1e-9 * lw, "L \(r.timeAverageInSystem) vs λW \(lw)")
    }

    @Test func erlangCMatchesKnownValue() {
        // A textbook value: c = 2, a = 1 → C = 1/3.
        #expect(abs(QueueingTheory.erlangC(servers: 2, load: 1) - 1.0 / 3) < 1e-12)
    }
}

/// `experiments/mmc-validation.json` is the whole flash-sale model reduced to M/M/4: its mean
/// latency is Erlang C's mean wait plus the mean service time.
@Suite struct MMCScenarioTests {
    @Test func flashSaleModelReducesToMMC() throws {
        let scenario = try Fixtures.experiment("mmc-validation.json")
        let runs = Simulator.replicate(scenario, count: 6)
        let expected = QueueingTheory.mmcWait(servers: 4, arrivalRate: 3.2, meanService: 1) + 1
        let ci = ConfidenceInterval(runs.map { $0.operations[1].meanMs })
        #expect(ci.contains(expected), "mean latency CI \(ci.low)...\(ci.high), Erlang C \(expected)")
        #expect(abs(ci.mean - expected) <= 0.02 * expected)
    }
}
