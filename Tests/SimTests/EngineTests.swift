import Sim
import Testing

@Suite struct EngineTests {
    @Test func sameTimeEventsComeOutInSchedulingOrder() {
        var calendar = EventCalendar<Int>()
        calendar.schedule(at: 10, 1)
        calendar.schedule(at: 5, 2)
        calendar.schedule(at: 10, 3)
        calendar.schedule(at: 5, 4)
        var order: [Int] = []
        while let e = calendar.next() {
            order.append(e)
            if e == 2 { calendar.schedule(at: 5, 5) }  // due now: after 4, which was scheduled earlier
        }
        #expect(order == [2, 4, 5, 1, 3])
    }

    @Test func heapOrdersManyEvents() {
        var calendar = EventCalendar<Int>()
        var random = RandomStream(seed: 3)
        for i in 0..<10_000 { calendar.schedule(at: Int64(random.below(1000)), i) }
        var last: Int64 = -1
        var count = 0
        while calendar.next() != nil {
            #expect(calendar.now >= last)
            last = calendar.now
            count += 1
        }
        #expect(count == 10_000)
    }

    @Test func streamsAreIndependentOfOtherNames() {
        let a = RandomStreams(seed: 7)
        var x = a.stream("redis"), y = a.stream("redis"), z = a.stream("kafka")
        let xs = (0..<5).map { _ in x.next() }
        #expect(xs == (0..<5).map { _ in y.next() })
        #expect(xs != (0..<5).map { _ in z.next() })
    }

    @Test(arguments: [
        (Distribution.exponential(mean: 2e6), 2e6),
        (.uniform(min: 1e6, max: 3e6), 2e6),
        (.lognormal(mean: 5e6, sd: 2e6), 5e6),
        (.pareto(scale: 1e6, shape: 3), 1.5e6),
        (.normal(mean: 1e6, sd: 1e6), Distribution.normal(mean: 1e6, sd: 1e6).mean),
        (.mixture(weights: [0.25, 0.75], components: [.constant(1e6), .constant(3e6)]), 2.5e6),
        (Distribution.empirical(values: [1e6, 2e6, 4e6], weights: [1, 1, 2]), 2.75e6),
    ])
    func sampleMeansMatch(_ distribution: Distribution, _ mean: Double) {
        var random = RandomStream(seed: 99)
        let n = 200_000
        var sum = 0.0
        for _ in 0..<n {
            let x = distribution.sampleDouble(&random)
            #expect(x >= 0)
            sum += x
        }
        #expect(abs(sum / Double(n) - mean) / mean < 0.02, "\(distribution): \(sum / Double(n)) vs \(mean)")
        #expect(abs(distribution.mean - mean) / mean < 1e-6)
    }

    @Test func boundedStationRejectsAndTimesOut() {
        var station = Station(name: "s", capacity: 1, queueLimit: 1, maxWait: 10)
        #expect(station.arrive(1, at: 0) == .start)
        #expect(station.arrive(2, at: 0) == .queued)
        #expect(station.arrive(3, at: 0) == .rejected)
        var expired: [Int32] = []
        #expect(station.depart(at: 20, expired: &expired) == nil)  // job 2 waited 20 > 10
        #expect(expired == [2] && station.timedOut == 1 && station.rejected == 1)
    }

    @Test func arrivalScheduleFollowsTheStages() {
        let schedule = ArrivalSchedule(startRate: 0, stages: [.init(duration: 10_000_000_000, target: 100), .init(duration: 10_000_000_000, target: 100)])
        #expect(abs(schedule.expectedTotal - 1500) < 1e-9)
        // Halfway up the ramp (rate 50/s), 125 arrivals were expected: ½ · 5 s · 50/s.
        #expect(schedule.time(atCumulative: 125) == 5_000_000_000)
        #expect(schedule.time(atCumulative: 1000) == 15_000_000_000)
        #expect(schedule.time(atCumulative: 1501) == nil)
    }
}
