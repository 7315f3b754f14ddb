import Domain
import Foundation
import Sim
import Testing

/// The shared-core model against the textbook: M/G/1-PS's mean response time is E[S]/(1−ρ)
/// whatever the service distribution (unlike first-come-first-served), M/M/c-PS has M/M/c's mean
/// number in the system, and the quota and the background processes take their share.
@Suite struct ProcessorSharingTests {
    /// Poisson arrivals at `lambda` per ms, each needing `work()` ms: the mean response time (ms).
    static func meanResponse(cores: Double, lambda: Double, jobs: Int, seed: UInt64, work: (inout SeededGenerator) -> Double) -> Double {
        var random = SeededGenerator(seed: seed)
        var cpu = ProcessorSharing(cores: cores)
        var arrivedAt: [Int64] = []
        var nextArrival: Int64 = 0, total = 0.0, done = 0
        let ms = 1_000_000.0
        while done < jobs {
            let completion = cpu.nextEvent(now: cpu.lastTime)
            if arrivedAt.count < jobs, completion.map({ nextArrival <= $0 }) ?? true {
                cpu.arrive(Int32(arrivedAt.count), work: Int64((work(&random) * ms).rounded()), at: nextArrival)
                arrivedAt.append(nextArrival)
                nextArrival += Int64((-log(1 - random.nextUnitInterval()) / lambda * ms).rounded())
            } else if let completion {
                while let job = cpu.complete(at: completion) {
                    total += Double(completion - arrivedAt[Int(job)]) / ms
                    done += 1
                }
            }
        }
        return total / Double(done)
    }

    @Test func mG1PSMeanResponseIsInsensitiveToTheServiceDistribution() {
        // ρ = 0.7, E[S] = 1 ms: 1 / 0.3 = 3.33 ms for deterministic and exponential service alike
        // (first come, first served would give M/D/1's 2.17 ms for the deterministic one).
        let expected = 1 / 0.3
        let deterministic = Self.meanResponse(cores: 1, lambda: 0.7, jobs: 200_000, seed: 1) { _ in 1 }
        let exponential = Self.meanResponse(cores: 1, lambda: 0.7, jobs: 200_000, seed: 2) { -log(1 - $0.nextUnitInterval()) }
        #expect(abs(deterministic - expected) / expected < 0.04, "M/D/1-PS \(deterministic) ms")
        #expect(abs(exponential - expected) / expected < 0.04, "M/M/1-PS \(exponential) ms")
    }

    @Test func mMcPSHasTheMeanOfMMc() {
        // Two cores, λ = 1.6/ms, E[S] = 1 ms (ρ = 0.8): Erlang C gives P(wait) = 0.7111, so
        // E[T] = 1 + 0.7111 / (2 − 1.6) = 2.778 ms.
        let expected = 1 + 0.711_111 / 0.4
        let measured = Self.meanResponse(cores: 2, lambda: 1.6, jobs: 200_000, seed: 3) { -log(1 - $0.nextUnitInterval()) }
        #expect(abs(measured - expected) / expected < 0.05, "M/M/2-PS \(measured) ms")
    }

    @Test func aQuotaThrottlesAndBackgroundProcessesTakeTheirShare() {
        // 100 ms of work on one core with 20 ms of CPU per 100-ms period: four periods throttled,
        // done 20 ms into the fifth.
        var limited = ProcessorSharing(cores: 1, quota: .init(cpuPerPeriod: 20_000_000, period: 100_000_000))
        limited.arrive(1, work: 100_000_000, at: 0)
        var now: Int64 = 0, finished: Int64?
        while finished == nil, let next = limited.nextEvent(now: now) {
            now = next
            if limited.complete(at: now) != nil { finished = now }
        }
        #expect(finished == 420_000_000, "\(String(describing: finished))")
        #expect(abs(limited.throttled - 320_000_000) < 1_000, "throttled \(limited.throttled)")
        // One core shared with one other busy process: twice as long.
        var shared = ProcessorSharing(cores: 1, background: 1)
        shared.arrive(1, work: 10_000_000, at: 0)
        #expect(shared.nextEvent(now: 0) == 20_000_000)
    }

    @Test func aMachineInTheFlashSaleModelSharesTheCores() throws {
        // mmc-validation reduces to M/M/4: with its cores time-shared the mean stays M/M/4's
        // 1.745 ms (exponential service: processor sharing on c cores has M/M/c's mean); two other
        // busy processes on the cores take their share; a CPU quota in 100-ms
        // periods just above the load, throttles the bursts into the tail.
        var shared = try Fixtures.experiment("mmc-validation.json")
        shared.traffic.stages[0].duration = 20_000_000_000
        shared.http.machine = Scenario.Machine(background: 0, quota: nil, wakeUp: .constant(0))
        let plain = Simulator.run(shared, seed: 4).overall
        #expect(abs(plain.meanMs - 1.745) / 1.745 < 0.05, "time-shared M/M/4 mean \(plain.meanMs) ms")
        var busy = shared
        busy.http.machine?.background = 2
        let crowded = Simulator.run(busy, seed: 4).overall
        #expect(crowded.meanMs > 2 * plain.meanMs, "two busy neighbours: \(crowded.meanMs) ms against \(plain.meanMs)")
        var limited = shared
        limited.traffic.stages[0].target = 1200
        limited.traffic.startRate = 1200
        let unlimited = Simulator.run(limited, seed: 4).overall
        limited.http.machine?.quota = ProcessorSharing.Quota(cpuPerPeriod: 130_000_000, period: 100_000_000)
        let throttled = Simulator.run(limited, seed: 4).overall
        #expect(throttled.p99Ms > 3 * unlimited.p99Ms, "a 1.3-core quota at 1.2 cores of load stalls the bursts: P99 \(throttled.p99Ms) ms, \(unlimited.p99Ms) without")
        var woken = shared
        woken.http.machine?.wakeUp = .constant(0.5e6)
        #expect(abs(Simulator.run(woken, seed: 4).overall.meanMs - plain.meanMs - 0.5) < 0.1, "the wake-up delay adds to every request")
    }

    @Test func anotherClassOfJobsTakesItsShareAsTheTextbookSays() {
        // M/G/1-PS with two Poisson classes: each class's mean response is E[S]/(1 − ρ₁ − ρ₂). The
        // requests (λ = 0.5/ms, 1 ms) beside other processes' jobs (λ = 1/ms, 0.2 ms, job -1 as
        // the model gives them): ρ = 0.7, so 1 / 0.3 = 3.33 ms for a request.
        var random = SeededGenerator(seed: 7)
        var cpu = ProcessorSharing(cores: 1)
        let ms = 1_000_000.0
        func exponential(_ rate: Double) -> Int64 { Int64((-log(1 - random.nextUnitInterval()) / rate * ms).rounded()) }
        var nextRequest = exponential(0.5), nextOther = exponential(1)
        var arrivedAt: [Int64] = [], total = 0.0, done = 0
        while done < 150_000 {
            let completion = cpu.nextEvent(now: cpu.lastTime)
            let arrival = min(nextRequest, nextOther)
            if completion.map({ arrival <= $0 }) ?? true {
                if nextRequest <= nextOther {
                    cpu.arrive(Int32(arrivedAt.count), work: exponential(1), at: nextRequest)
                    arrivedAt.append(nextRequest)
                    nextRequest += exponential(0.5)
                } else {
                    cpu.arrive(-1, work: exponential(5), at: nextOther)
                    nextOther += exponential(1)
                }
            } else if let completion {
                while let job = cpu.complete(at: completion) {
                    guard job >= 0 else { continue }
                    total += Double(completion - arrivedAt[Int(job)]) / ms
                    done += 1
                }
            }
        }
        let mean = total / Double(done), expected = 1 / 0.3
        #expect(abs(mean - expected) / expected < 0.05, "a request beside other jobs: \(mean) ms")
    }

    @Test func otherProcessesDemandAndTheRateCurveScaleTheWork() throws {
        var shared = try Fixtures.experiment("mmc-validation.json")
        shared.traffic.stages[0].duration = 20_000_000_000
        shared.http.machine = Scenario.Machine()
        let plain = Simulator.run(shared, seed: 5).overall
        // k6 and Redis beside the server: 0.125 ms per request more on the cores (ρ 0.8 → 0.9),
        // on the request's path: M/M/4-PS's mean (1 ms exponential) becomes at least the
        // 1.125 ms of work plus the waiting of a busier machine.
        var crowded = shared
        crowded.http.machine?.demand = Scenario.Operation.allCases.map { _ in .constant(125_000) }
        let beside = Simulator.run(crowded, seed: 5).overall
        #expect(beside.requests == plain.requests && beside.meanMs > 1.3 * plain.meanMs, "\(beside.meanMs) ms against \(plain.meanMs)")
        var heavier = shared
        heavier.http.cpu = heavier.http.cpu.map { _ in .exponential(mean: 1_125_000) }
        let sameWork = Simulator.run(heavier, seed: 5).overall
        #expect(abs(beside.meanMs - sameWork.meanMs) / sameWork.meanMs < 0.1, "the demand is waited on as the server's CPU is: \(beside.meanMs) against \(sameWork.meanMs) ms")
        // Demand off the path only competes: slower than none, faster than on the path.
        var offPath = crowded
        offPath.http.machine?.demandOnPath = 0
        let competing = Simulator.run(offPath, seed: 5).overall
        #expect(competing.meanMs > plain.meanMs && competing.meanMs < beside.meanMs, "\(competing.meanMs) ms between \(plain.meanMs) and \(beside.meanMs)")
        // Half the CPU per request from 3,000 requests/s up (the level runs at 3,200): as fast as
        // half the CPU outright.
        var curve = shared
        curve.http.machine?.cpuByRate = [.init(rate: 1000, server: 1, others: 1), .init(rate: 3000, server: 0.5, others: 0.5)]
        var halved = shared
        halved.http.cpu = halved.http.cpu.map { _ in .exponential(mean: 500_000) }
        let (scaled, half) = (Simulator.run(curve, seed: 5).overall, Simulator.run(halved, seed: 5).overall)
        #expect(abs(scaled.meanMs - half.meanMs) / half.meanMs < 0.03, "\(scaled.meanMs) ms against \(half.meanMs)")
        let machine = try #require(curve.http.machine)
        #expect(machine.multipliers(at: 500) == (1, 1) && machine.multipliers(at: 2000) == (0.75, 0.75) && machine.multipliers(at: 9000) == (0.5, 0.5))
    }

    @Test func theIdleClassTakesOnlyWhatIsLeft() {
        // Alone on two cores, an idle job capped at 1.5 cores: 30 ms of work in 20 ms.
        var alone = ProcessorSharing(cores: 2, idleJobCores: 1.5)
        alone.arriveIdle(7, work: 30_000_000, at: 0)
        let done = alone.nextEvent(now: 0)
        #expect(done == 20_000_000 && alone.completeIdle(at: 20_000_000) == 7, "\(String(describing: done))")
        // One core: a normal job of 10 ms arrives beside an idle one of 10 ms. The normal job takes
        // the whole core (done at 10 ms, as with no idle job); the idle one gets nothing until
        // then, and is done at 20 ms.
        var cpu = ProcessorSharing(cores: 1)
        cpu.arriveIdle(1, work: 10_000_000, at: 0)
        cpu.arrive(2, work: 10_000_000, at: 0)
        var now: Int64 = 0, finished: [Int32: Int64] = [:]
        while let next = cpu.nextEvent(now: now) {
            now = next
            while let job = cpu.complete(at: now) { finished[job] = now }
            while let job = cpu.completeIdle(at: now) { finished[job] = now }
        }
        #expect(finished == [2: 10_000_000, 1: 20_000_000], "\(finished)")
        #expect(abs(cpu.idleBusyArea - 10_000_000) < 1_000 && abs(cpu.busyArea - 10_000_000) < 1_000)
        // Two cores, one normal job and one background process: the idle job has no core left.
        var full = ProcessorSharing(cores: 2, background: 1)
        full.arrive(1, work: 5_000_000, at: 0)
        full.arriveIdle(2, work: 1_000_000, at: 0)
        #expect(full.nextEvent(now: 0) == 5_000_000 && full.complete(at: 5_000_000) == 1)
        // Then one core is free of the background: the idle job's 1 ms takes 1 ms.
        #expect(full.nextEvent(now: 5_000_000) == 6_000_000 && full.completeIdle(at: 6_000_000) == 2)
    }

    @Test func theIdleClassLeavesTheRequestsMeanAsTheTextbookSays() {
        // M/G/1-PS at ρ = 0.7 keeps its 3.33 ms mean with a never-ending idle-class job beside
        // it, which only gets the idle 30% of the core.
        var random = SeededGenerator(seed: 11)
        var cpu = ProcessorSharing(cores: 1)
        cpu.arriveIdle(99, work: .max / 4, at: 0)
        let ms = 1_000_000.0
        var nextArrival: Int64 = 0, arrivedAt: [Int64] = [], total = 0.0, done = 0
        while done < 100_000 {
            let completion = cpu.nextEvent(now: cpu.lastTime)
            if completion.map({ nextArrival <= $0 }) ?? true {
                cpu.arrive(Int32(arrivedAt.count), work: Int64((-log(1 - random.nextUnitInterval()) * ms).rounded()), at: nextArrival)
                arrivedAt.append(nextArrival)
                nextArrival += Int64((-log(1 - random.nextUnitInterval()) / 0.7 * ms).rounded())
            } else if let completion {
                while let job = cpu.complete(at: completion) {
                    total += Double(completion - arrivedAt[Int(job)]) / ms
                    done += 1
                }
                #expect(cpu.completeIdle(at: completion) == nil)
            }
        }
        let mean = total / Double(done), expected = 1 / 0.3
        #expect(abs(mean - expected) / expected < 0.05, "M/M/1-PS beside an idle job: \(mean) ms")
        let idleShare = cpu.idleBusyArea / Double(cpu.lastTime)
        #expect(abs(idleShare - 0.3) < 0.02, "the idle job had \(idleShare) of the core")
    }

    @Test func theWriterTierOnTheSharedCoresFallsBehindUnderLoadAndCatchesUpAfter() throws {
        // journey-2000's traffic on a machine with the writer tier in the idle class, at 0.3 ms of
        // CPU per message (at most one core): the request path leaves it too little, so messages
        // pile up while the load lasts and are written after it, at about one core's speed.
        var scenario = try Fixtures.experiment("journey-2000.json")
        scenario.traffic.stages[1].duration = 10_000_000_000
        scenario.kafka.consumers = 1
        scenario.http.machine?.writer = .init(cpuPerMessage: .constant(300_000), cores: 1)
        let loaded = Simulator.run(scenario, seed: 3)
        let drain = try #require(loaded.kafka.caughtUpSeconds)
        #expect(loaded.kafka.consumed == loaded.kafka.produced && loaded.kafka.maxLag > 1_000, "lag peak \(loaded.kafka.maxLag)")
        // The backlog at its peak takes at least its CPU to write with the whole machine free.
        #expect(drain > Double(loaded.kafka.maxLag) * 0.0003 * 0.8, "drained \(drain) s after the arrivals, peak \(loaded.kafka.maxLag)")
        // Caught up, the writer had written the sale's backlog; the unpaid reservations expire a
        // TTL later, and their two events each are written after.
        let byThen = try #require(loaded.kafka.caughtUpConsumed)
        #expect(loaded.orders.expired > 0 && loaded.kafka.consumed - byThen == 2 * loaded.orders.expired,
                "\(byThen) written when caught up, \(loaded.kafka.consumed) in all, \(loaded.orders.expired) reservations expired")
        // A light load leaves it room: next to no lag, written as it comes.
        var light = scenario
        light.traffic.stages = light.traffic.stages.map { Scenario.Stage(duration: $0.duration, target: $0.target / 20) }
        let quiet = Simulator.run(light, seed: 3)
        #expect(quiet.kafka.maxLag < loaded.kafka.maxLag / 10 && (quiet.kafka.caughtUpSeconds ?? 99) < 1,
                "light: lag \(quiet.kafka.maxLag), caught up \(String(describing: quiet.kafka.caughtUpSeconds)) s after the arrivals")
    }
}
