import Foundation

/// Stations in tandem fed by one arrival stream: the model queueing theory checks the engine
/// against (M/M/1, M/M/c, M/D/1, M/M/1/K) and the reference model of `make bench` (an M/M/8 stage
/// at utilisation 0.9 followed by a finite single-server stage, like Redis).
public struct TandemQueueModel {
    public struct Stage: Sendable {
        public var servers: Int
        /// Waiting places; `nil` is unbounded. An arrival finding them full is dropped.
        public var queueLimit: Int?
        public var service: Distribution

        public init(servers: Int, queueLimit: Int? = nil, service: Distribution) {
            self.servers = servers
            self.queueLimit = queueLimit
            self.service = service
        }
    }

    public struct Result: Sendable {
        public var customers: Int
        public var meanWait: [Double]
        public var waitProbability: [Double]
        public var dropRate: [Double]
        public var utilisation: [Double]
        public var meanSojourn: Double
        /// Time-average number in the system, integrated over the run.
        public var timeAverageInSystem: Double
        /// Arrivals per nanosecond.
        public var arrivalRate: Double
        public var events: Int
        public var endTime: Int64
    }

    enum Event {
        case arrival
        case done(stage: Int32, job: Int32)
    }

    public let stages: [Stage]
    public let interarrival: Distribution
    public let customers: Int
    var calendar = EventCalendar<Event>(capacity: 1024)
    var stations: [Station]
    var entered: [Int64] = []
    var free: [Int32] = []
    var arrivalStream: RandomStream
    var serviceStreams: [RandomStream]
    var arrived = 0
    var inSystem = 0
    var area: Double = 0
    var lastChange: Int64 = 0
    var sojournSum: Double = 0
    var departed = 0

    public init(stages: [Stage], interarrival: Distribution, customers: Int, seed: UInt64) {
        self.stages = stages
        self.interarrival = interarrival
        self.customers = customers
        stations = stages.enumerated().map { Station(name: "stage-\($0.offset)", capacity: $0.element.servers, queueLimit: $0.element.queueLimit, recordSeries: false) }
        let streams = RandomStreams(seed: seed)
        arrivalStream = streams.stream("arrivals")
        serviceStreams = stages.indices.map { streams.stream("service-\($0)") }
        entered.reserveCapacity(1024)
    }

    public mutating func run() -> Result {
        calendar.schedule(at: interarrival.sample(&arrivalStream), .arrival)
        while let event = calendar.next() {
            let now = calendar.now
            area += Double(inSystem) * Double(now - lastChange)
            lastChange = now
            switch event {
            case .arrival:
                arrived += 1
                if arrived < customers { calendar.schedule(after: interarrival.sample(&arrivalStream), .arrival) }
                let job: Int32
                if let reused = free.popLast() { job = reused; entered[Int(job)] = now } else { job = Int32(entered.count); entered.append(now) }
                inSystem += 1
                enter(0, job)
            case .done(let stage, let job):
                let s = Int(stage)
                var none: [Int32] = []
                if let next = stations[s].depart(at: now, expired: &none) {
                    calendar.schedule(after: stages[s].service.sample(&serviceStreams[s]), .done(stage: stage, job: next))
                }
                if s + 1 < stages.count { enter(s + 1, job) } else { leave(job) }
            }
        }
        let end = calendar.now
        for i in stations.indices { stations[i].advance(to: end) }
        return Result(
            customers: customers,
            meanWait: stations.map { $0.meanWait() },
            waitProbability: stations.map { Double($0.delayed) / Double(max(1, $0.arrivals - $0.rejected)) },
            dropRate: stations.map { Double($0.rejected) / Double(max(1, $0.arrivals)) },
            utilisation: stations.map { $0.utilisation(until: end) },
            meanSojourn: sojournSum / Double(max(1, departed)),
            timeAverageInSystem: end > 0 ? area / Double(end) : 0,
            arrivalRate: end > 0 ? Double(arrived) / Double(end) : 0,
            events: calendar.processed, endTime: end)
    }

    mutating func enter(_ s: Int, _ job: Int32) {
        switch stations[s].arrive(job, at: calendar.now) {
        case .start: calendar.schedule(after: stages[s].service.sample(&serviceStreams[s]), .done(stage: Int32(s), job: job))
        case .queued: break
        case .rejected: leave(job)
        }
    }

    mutating func leave(_ job: Int32) {
        sojournSum += Double(calendar.now - entered[Int(job)])
        departed += 1
        inSystem -= 1
        free.append(job)
    }
}

/// Closed-form results of queueing theory, for validation.
public enum QueueingTheory {
    /// Erlang C: the probability an arrival waits in an M/M/c queue with offered load `a` = λ/μ.
    public static func erlangC(servers c: Int, load a: Double) -> Double {
        var term = 1.0, sum = 1.0
        for k in 1..<c {
            term *= a / Double(k)
            sum += term
        }
        let last = term * a / Double(c) * Double(c) / (Double(c) - a)
        return last / (sum + last)
    }

    /// Mean wait in queue of M/M/c (time units of 1/μ·`meanService`).
    public static func mmcWait(servers c: Int, arrivalRate λ: Double, meanService s: Double) -> Double {
        let a = λ * s
        return erlangC(servers: c, load: a) * s / (Double(c) - a)
    }

    /// Pollaczek–Khinchine mean wait of M/D/1.
    public static func md1Wait(arrivalRate λ: Double, service s: Double) -> Double {
        let ρ = λ * s
        return λ * s * s / (2 * (1 - ρ))
    }

    /// The probability an arrival to M/M/1/K (K in the system) is dropped.
    public static func mm1kDrop(capacity k: Int, load ρ: Double) -> Double {
        if abs(ρ - 1) < 1e-12 { return 1 / Double(k + 1) }
        return (1 - ρ) * pow(ρ, Double(k)) / (1 - pow(ρ, Double(k + 1)))
    }
}
