import Sim
import Testing

/// The server's event loops on the time-shared cores (`http.machine.eventLoops`) against what
/// queueing theory says of the disciplines they mix: a loop runs one segment at a time, in order,
/// and is one job on the cores.
@Suite struct EventLoopTests {
    /// `mmc-validation` (Poisson deal views, exponential CPU of 1 ms, nothing else on the path) on
    /// a machine of `cores` time-shared cores at `rate` requests/s for 20 s.
    static func views(cores: Int, rate: Double, loops: Int, cpu: Distribution = .exponential(mean: 1_000_000)) throws -> Scenario {
        var s = try Fixtures.experiment("mmc-validation.json")
        s.traffic.stages[0].duration = 20_000_000_000
        s.traffic.stages[0].target = rate
        s.traffic.startRate = rate
        s.http.coresPerReplica = cores
        s.http.cpu = s.http.cpu.map { _ in cpu }
        s.http.machine = Scenario.Machine()
        s.http.machine?.eventLoops = loops
        return s
    }

    @Test func aLoopRunsOnOneCoreAtATime() throws {
        // 3,200 requests/s of 1 ms on four cores (ρ 0.8): four loops keep up; one loop has one
        // core's worth, so the requests pile up behind it while three cores idle.
        let four = Simulator.run(try Self.views(cores: 4, rate: 3200, loops: 4), seed: 11)
        let one = Simulator.run(try Self.views(cores: 4, rate: 3200, loops: 1), seed: 11)
        #expect(four.overall.meanMs < 10, "four loops: \(four.overall.meanMs) ms")
        #expect(one.overall.meanMs > 100 * four.overall.meanMs, "one loop: \(one.overall.meanMs) ms against \(four.overall.meanMs)")
        // Every request's CPU is run, in segments or not: the server's cores are λ·E[S] = 3.2.
        let cores = try #require(four.cores)
        #expect(abs(cores.server - 3.2) / 3.2 < 0.03 && abs(cores.requestPath - cores.server) < 1e-9, "\(cores)")
        let pooled = try #require(Simulator.run(try Self.views(cores: 4, rate: 3200, loops: 0), seed: 11).cores)
        #expect(abs(pooled.server - cores.server) / cores.server < 0.03, "\(pooled) against \(cores)")
    }

    @Test func loopsAreQueuesOfTheirOwnNotAPool() throws {
        // M/M/4 (the processor-shared pool, 1.745 ms) against four loops with the work handed out
        // in turn: a request waits behind its loop while another may idle, so the mean is longer;
        // each loop sees a quarter of the requests, no burstier than Poisson, so it is no worse
        // than four separate M/M/1 queues at ρ 0.8 (5 ms).
        let pool = Simulator.run(try Self.views(cores: 4, rate: 3200, loops: 0), seed: 12).overall.meanMs
        let loops = Simulator.run(try Self.views(cores: 4, rate: 3200, loops: 4), seed: 12).overall.meanMs
        #expect(abs(pool - 1.745) / 1.745 < 0.05, "pool \(pool) ms")
        #expect(loops > 1.3 * pool && loops < 5, "four loops \(loops) ms against the pool's \(pool)")
    }

    @Test func aLoopServesInOrderSoItsMeanFeelsTheSpreadOfTheWork() throws {
        // One core at ρ 0.7. Processor sharing's mean is E[S]/(1 − ρ) = 3.33 ms whatever the
        // spread. A loop serves segments in order: with work of one size it beats processor
        // sharing (first come first served gives M/D/1's 2.17 ms; the segments sit between the
        // two), and with a heavy spread (a lognormal with a standard deviation of 3 ms) a long
        // request's segment holds up everyone behind it, as Pollaczek–Khinchine's E[S²] says.
        func mean(_ loops: Int, _ cpu: Distribution) throws -> Double {
            Simulator.run(try Self.views(cores: 1, rate: 700, loops: loops, cpu: cpu), seed: 13).overall.meanMs
        }
        let fixed = Distribution.constant(1_000_000), spread = Distribution.lognormal(mean: 1_000_000, sd: 3_000_000)
        let (sharedFixed, sharedSpread) = (try mean(0, fixed), try mean(0, spread))
        #expect(abs(sharedFixed - 3.33) / 3.33 < 0.06 && abs(sharedSpread - 3.33) / 3.33 < 0.12, "PS: \(sharedFixed), \(sharedSpread) ms")
        let (loopFixed, loopSpread) = (try mean(1, fixed), try mean(1, spread))
        #expect(loopFixed < 0.9 * sharedFixed && loopFixed > 2.0, "one loop, one size: \(loopFixed) ms")
        #expect(loopSpread > 1.5 * sharedSpread, "one loop, spread work: \(loopSpread) ms against processor sharing's \(sharedSpread)")
    }
}

extension EventLoopTests {
    @Test func theOtherProcessesAreAFewThreadsNotAJobPerRequest() throws {
        // Two loops on two cores at 1,400 requests/s of 0.2 ms, and beside each request 1 ms of
        // other processes' work off its path (k6, Redis): ρ 0.84. As one job per request that
        // work takes a share of the cores per request in flight and crowds the two loops out; on
        // three threads it takes at most three shares. The CPU is the same either way.
        var s = try Self.views(cores: 2, rate: 1400, loops: 2, cpu: .exponential(mean: 200_000))
        s.http.machine?.demand = Scenario.Operation.allCases.map { _ in .constant(1_000_000) }
        s.http.machine?.demandOnPath = 0
        let perRequest = Simulator.run(s, seed: 14)
        s.http.machine?.otherThreads = 3
        let threads = Simulator.run(s, seed: 14)
        let (a, b) = (try #require(perRequest.cores), try #require(threads.cores))
        #expect(abs(a.requestPath - 1.68) / 1.68 < 0.03 && abs(b.requestPath - a.requestPath) / a.requestPath < 0.02, "\(a) against \(b)")
        #expect(threads.overall.meanMs < 0.8 * perRequest.overall.meanMs, "\(threads.overall.meanMs) ms on threads, \(perRequest.overall.meanMs) as jobs")
    }
}
