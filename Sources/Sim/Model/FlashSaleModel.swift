import Domain

/// The flash-sale model: clients on journeys, an HTTP tier of replicas, Redis, Kafka, MongoDB,
/// a payment provider and an autoscaler, driven by one event calendar. Every business decision
/// is the Domain's: each deal is a `StockGate`, each order an `Order`.
public struct FlashSaleModel {
    public enum Event {
        case arrival
        case send(journey: Int32)
        case serverArrive(request: Int32)
        case cpuDone(request: Int32)
        /// A request's CPU work becomes runnable after the scheduler's wake-up delay (a machine).
        case cpuWake(request: Int32)
        /// The shared cores' next change (a machine); stale unless `generation` is still current.
        case cpuShared(replica: Int32, generation: Int32)
        case redisServed(request: Int32)
        case redisBack(request: Int32)
        case mongoDone(job: Int32)
        case paymentDone(request: Int32)
        case kafkaLinger(batch: Int32)
        case kafkaArrive(batch: Int32)
        case kafkaServed(batch: Int32)
        case kafkaAck(batch: Int32)
        case consumerPoll(consumer: Int32)
        case consumerProcessed(consumer: Int32)
        case respond(request: Int32)
        case timeoutCheck
        case sweep
        case autoscale
        case podReady(replica: Int32)
        case dealStart(deal: Int32)
        case dealEnd(deal: Int32)
        case faultEnds(fault: Int32)
    }

    /// What a request does after its CPU work, in order. `redisRead` is a Redis round trip that
    /// decides nothing, `redisGate` one in which the stock gate decides; `kafkaIfChanged` writes the
    /// outbox entry (a round trip) when the gate changed something, `journalledIfChanged` hands the
    /// relay an entry the gate step already wrote (no round trip).
    enum Step: UInt8 {
        case redisRead, redisGate, mongoIfMiss, kafkaIfChanged, journalledIfChanged, payment, respond
        /// A refund's steps before the gate, taken only when the order is paid: a Redis round trip
        /// (the payment's read, then the refund's claim), then the provider's refund.
        case redisReadIfPaid, refundIfPaid
    }

    /// The step at `index` of an operation's program. `payOrder` is the live server's three round
    /// trips around the provider: the order read, the opening (claims and the requested payment,
    /// one script), then the completion (confirmation, payment, order, events and claims, one
    /// script, its outbox entry written inside it). `cancelOrder` is the order read and one script
    /// (the release with the order cancelled, or the refund's return with the order and payment
    /// refunded, its outbox entries written inside it); a refund first reads the payment, claims
    /// the refund and asks the provider.
    static func step(_ op: Scenario.Operation, _ index: UInt8) -> Step {
        switch (op, index) {
        case (.listDeals, 0), (.viewDeal, 0), (.orderStatus, 0), (.payOrder, 0), (.payOrder, 1), (.cancelOrder, 0): .redisRead
        case (.listDeals, 1), (.viewDeal, 1), (.orderStatus, 1): .mongoIfMiss
        case (.cancelOrder, 1), (.cancelOrder, 2): .redisReadIfPaid
        case (.cancelOrder, 3): .refundIfPaid
        case (.placeOrder, 0), (.cancelOrder, 4), (.payOrder, 3): .redisGate
        case (.placeOrder, 1): .kafkaIfChanged
        case (.payOrder, 4), (.cancelOrder, 5): .journalledIfChanged
        case (.payOrder, 2): .payment
        default: .respond
        }
    }

    /// The index of an operation's last step (`respond`).
    static func lastStep(_ op: Scenario.Operation) -> UInt8 {
        switch op {
        case .payOrder: 5
        case .cancelOrder: 6
        default: 2
        }
    }

    /// One user's visit (a k6 iteration): the client side.
    struct Journey {
        var serial: Int
        var user: Int32
        var deal: Int32
        var phase: UInt8 = 0  // 0 browse, 1 view, 2 order, 3 polls, 4 pay, 5 cancel, 6 done
        var order: Int32 = -1
        var pollsLeft: Int
        var op: Scenario.Operation = .listDeals
        var attempt: Int = 0
        var generation: UInt32 = 0
        var sentAt: Int64 = 0
        var waiting = false
    }

    /// One request at the server.
    struct Request {
        var journey: Int32
        var generation: UInt32
        var op: Scenario.Operation
        var replica: Int32
        var step: UInt8 = 0
        var sentAt: Int64
        var changed = false
        var outcome: Outcome = .ok
        var paymentApproved = false
        var order: Int32
        var deal: Int32
        var user: Int32
        var serial: Int
        /// With event loops (`Machine.eventLoops`): the CPU work the request has left, a round
        /// trip's segment of it, the segment running or queued now, its loop, and what follows it.
        var cpuLeft: Int64 = 0
        var cpuShare: Int64 = 0
        var segment: Int64 = 0
        var loop: Int16 = 0
        var afterCPU: Resume = .run
    }

    /// What a request does once a CPU segment is done: its current step, the next one, the
    /// answer with a business outcome, or the answer as it stands.
    enum Resume: UInt8 { case run, next, business, respond }

    /// Threads that each run one piece of work at a time, in the order given, handed the work in
    /// turn (round robin): a server's event loops (request segments, by request) or the other
    /// processes' threads (CPU work beside the requests, by its amount).
    struct Threads {
        private var running: [Bool]
        private var queues: [Deque64]
        private var next = 0

        init(count: Int) {
            running = Array(repeating: false, count: count)
            queues = Array(repeating: Deque64(), count: count)
        }

        /// Hands `item` to the next thread: whether it runs now (the thread was idle) or waits
        /// behind the items before it there.
        mutating func hand(_ item: Int64) -> (thread: Int, now: Bool) {
            let thread = next
            next = (thread + 1) % running.count
            if running[thread] {
                queues[thread].append(item)
                return (thread, false)
            }
            running[thread] = true
            return (thread, true)
        }

        /// `thread` finished its item: the next one queued there, which runs now (nil: the thread
        /// is idle).
        mutating func finished(_ thread: Int) -> Int64? {
            guard let item = queues[thread].first else {
                running[thread] = false
                return nil
            }
            queues[thread].removeFirst()
            return item
        }
    }

    enum Outcome: UInt8 { case ok, rejected, business, shed }

    struct Replica {
        var ready: Bool
        var http: Station
        var cpu: Station
        /// The cores time-shared, with a machine (`HTTPTier.machine`); `cpu` then counts runnable requests.
        var shared: ProcessorSharing?
        var pool: Station
        /// The server's event loops on those cores (empty: none).
        var loops: Threads
        /// The other processes' threads on them (empty: each request's share of their work is a job of its own).
        var others: Threads
        var batch: [Int32] = []
        var batchOutboxEntries = 0
        /// The linger timer's generation for the open batch (`Int32.min` when none is open).
        var batchGeneration: Int32 = .min
        var lastCPUBusyArea: Double = 0
        /// The HTTP station's busy plus queue area at the last HPA sync (requests in flight × time).
        var lastInFlightArea: Double = 0
    }

    struct Batch {
        var replica: Int32
        var requests: [Int32]
        /// The outbox entries whose messages the batch carries (deleted from the outbox on its ack).
        var outboxEntries: Int
    }

    struct Consumer {
        var partitions: [Int]
        var inFlight = 0
        var polling = false
    }

    let scenario: Scenario
    var calendar = EventCalendar<Event>(capacity: 4096)
    var arrivals: ArrivalSchedule
    var nextMark: Double = 0

    // Random streams, one per component.
    var rArrivals: RandomStream, rJourney: RandomStream, rCPU: RandomStream, rNetwork: RandomStream
    var rRedis: RandomStream, rKafka: RandomStream, rMongo: RandomStream, rPayment: RandomStream, rClient: RandomStream

    // Domain state
    var gates: [StockGate]
    var terms: [DealTerms]
    var orders: [Order] = []
    var orderIndex: [OrderID: Int32] = [:]
    var dealCumulativeWeights: [Double]

    // Client and server state
    var journeys = Pool<Journey>()
    var requests = Pool<Request>()
    var journeySerial = 0
    var sendSerial: UInt32 = 0
    var timeouts = RingBuffer<(deadline: Int64, journey: Int32, generation: UInt32)>(capacity: 1024)
    var timeoutCheckPending = false
    var replicas: [Replica] = []
    var roundRobin = 0
    var tokens: Double = 0
    var tokensAt: Int64 = 0
    var redis: FIFOServer
    var broker: Station
    var mongo: Station
    var batches = Pool<Batch>()
    /// Linger timers: generation → replica.
    var lingerGeneration: Int32 = 0
    var lingerReplica: [Int32: Int32] = [:]
    var partitionProduced: [Int]
    var partitionFetched: [Int]
    var consumers: [Consumer] = []
    var mongoJobs = Pool<(consumer: Int32, request: Int32, count: Int)>()
    var expired: [Int32] = []
    var starting: [Int32] = []
    /// Requests whose time-shared CPU work finished at one instant (reused).
    var finishedCPU: [Int32] = []
    /// Arrival times at the HTTP tier over the last second, oldest first (a machine with `cpuByRate`).
    var recentArrivals = Deque64()
    /// Outbox entries written and not yet acknowledged by the broker (the live outbox's depth).
    var outboxDepth = 0
    /// Outbox entries written while the writer (the relay) was down: relayed when it is back.
    var heldOutbox: [(deal: Int32, messages: Int, entries: Int)] = []

    // Autoscaling
    var desiredReplicas: Int
    var recommendations: [(time: Int64, replicas: Int)] = []
    var scaleEvents: [(time: Int64, replicas: Int)] = []
    var scaleDownEvents: [(time: Int64, replicas: Int)] = []
    var lastAutoscaleAt: Int64 = 0

    // Statistics
    var stats: RunStatistics

    let seed: UInt64

    public init(scenario: Scenario, seed: UInt64? = nil) {
        self.scenario = scenario
        self.seed = seed ?? scenario.seed
        let streams = RandomStreams(seed: self.seed)
        rArrivals = streams.stream("arrivals"); rJourney = streams.stream("journey"); rCPU = streams.stream("http.cpu")
        rNetwork = streams.stream("network"); rRedis = streams.stream("redis"); rKafka = streams.stream("kafka")
        rMongo = streams.stream("mongo"); rPayment = streams.stream("payment"); rClient = streams.stream("client")
        arrivals = ArrivalSchedule(startRate: scenario.traffic.startRate, stages: scenario.traffic.stages)
        terms = scenario.deals.map { d in
            try! DealTerms(
                id: DealID(d.id), productID: ProductID("product-\(d.id)"), price: Money(minorUnits: d.price),
                startsAt: Instant(nanosecondsSinceEpoch: d.startsAt), endsAt: Instant(nanosecondsSinceEpoch: d.endsAt),
                perUserLimit: d.perUserLimit, reservationTTL: .nanoseconds(d.reservationTTL),
                paymentWindow: .nanoseconds(d.paymentWindow), initialStock: d.stock, reservationCap: d.reservationCap,
                cancelCoolDown: .nanoseconds(d.cancelCoolDown))
        }
        gates = terms.map { StockGate.create($0).0 }
        let totalWeight = scenario.deals.reduce(0) { $0 + $1.weight }
        var running = 0.0
        dealCumulativeWeights = scenario.deals.map { running += $0.weight / max(totalWeight, 1e-12); return running }
        redis = FIFOServer(name: "redis")
        broker = Station(name: "kafka", capacity: scenario.kafka.brokerThreads)
        mongo = Station(name: "mongo", capacity: scenario.mongo.poolSize)
        partitionProduced = Array(repeating: 0, count: scenario.kafka.partitions)
        partitionFetched = Array(repeating: 0, count: scenario.kafka.partitions)
        desiredReplicas = scenario.autoscaling.map { max($0.floor(at: 0), min($0.maxReplicas, scenario.http.replicas)) } ?? scenario.http.replicas
        stats = RunStatistics(deals: scenario.deals.count, faults: scenario.faults.count)
        tokens = { if case .rateLimit(_, let burst) = scenario.http.admission { return burst } else { return 0 } }()
        for _ in 0..<desiredReplicas { addReplica(ready: true) }
        for c in 0..<scenario.kafka.consumers {
            consumers.append(Consumer(partitions: (0..<scenario.kafka.partitions).filter { $0 % scenario.kafka.consumers == c }))
        }
        for (i, t) in terms.enumerated() {
            stats.totalUnits[i] = t.initialStock
            if t.startsAt.nanosecondsSinceEpoch == 0 { applyGate(Int32(i), gates[i].decideStart(at: t.startsAt)) }
        }
    }

    mutating func addReplica(ready: Bool) {
        let h = scenario.http
        let i = replicas.count
        replicas.append(
            Replica(
                ready: ready,
                http: Station(name: "http-\(i)", capacity: h.concurrencyPerReplica, queueLimit: h.acceptQueue, maxWait: h.requestTimeout),
                cpu: Station(name: "cpu-\(i)", capacity: h.coresPerReplica),
                shared: h.machine.map {
                    ProcessorSharing(cores: Double(h.coresPerReplica), background: $0.background, quota: $0.quota, idleJobCores: $0.writer?.cores ?? 1)
                },
                pool: Station(name: "redis-pool-\(i)", capacity: scenario.redis.poolSizePerReplica, recordSeries: false),
                loops: Threads(count: h.machine?.eventLoops ?? 0), others: Threads(count: h.machine?.otherThreads ?? 0)))
    }

    /// Runs the sale to the end and returns its statistics.
    public mutating func run() -> RunStatistics {
        applyGate(0, GateChange())  // records the opening stock in the series
        stats.readySeries.set(Double(readyReplicas), at: 0)
        scheduleNextArrival()
        for (i, t) in terms.enumerated() {
            if t.startsAt.nanosecondsSinceEpoch > 0 { calendar.schedule(at: t.startsAt.nanosecondsSinceEpoch, .dealStart(deal: Int32(i))) }
            if t.endsAt.nanosecondsSinceEpoch <= scenario.horizon { calendar.schedule(at: t.endsAt.nanosecondsSinceEpoch, .dealEnd(deal: Int32(i))) }
        }
        calendar.schedule(at: scenario.sweeperInterval, .sweep)
        if let a = scenario.autoscaling { calendar.schedule(at: a.syncPeriod, .autoscale) }
        for c in consumers.indices { calendar.schedule(at: 0, .consumerPoll(consumer: Int32(c))); consumers[c].polling = true }
        for (i, fault) in scenario.faults.enumerated() { calendar.schedule(at: fault.end, .faultEnds(fault: Int32(i))) }
        while let event = calendar.next() {
            if calendar.now > scenario.horizon { stats.hitHorizon = true; break }
            handle(event)
            if arrivalsDone, journeys.live == 0, requests.live == 0, lag == 0, outboxDepth == 0, openReservations == 0, faultsOver { break }
        }
        return finish()
    }

    var arrivalsDone = false
    var lag: Int { stats.produced - stats.committed }
    var openReservations: Int { gates.reduce(0) { $0 + $1.inventory.reservations.count } }

    mutating func handle(_ event: Event) {
        switch event {
        case .arrival: arrive()
        case .send(let j): send(j)
        case .serverArrive(let r): serverArrive(r)
        case .cpuDone(let r): cpuDone(r)
        case .cpuWake(let r): hasEventLoops ? startSegment(r) : enterSharedCPU(r)
        case .cpuShared(let replica, let generation): sharedCPUChanged(Int(replica), generation: generation)
        case .redisServed(let r): redisServed(r)
        case .redisBack(let r): redisBack(r)
        case .mongoDone(let job): mongoDone(job)
        case .paymentDone(let r): paymentDone(r)
        case .kafkaLinger(let generation): kafkaLinger(generation)
        case .kafkaArrive(let b): kafkaArrive(b)
        case .kafkaServed(let b): kafkaServed(b)
        case .kafkaAck(let b): kafkaAck(b)
        case .consumerPoll(let c): consumerPoll(c)
        case .consumerProcessed(let c): consumerProcessed(c)
        case .respond(let r): respond(r)
        case .timeoutCheck: timeoutCheck()
        case .sweep: sweep()
        case .autoscale: autoscale()
        case .podReady(let r): podReady(r)
        case .dealStart(let d): dealLifecycle(d, start: true)
        case .dealEnd(let d): dealLifecycle(d, start: false)
        case .faultEnds(let f): faultEnds(f)
        }
    }

    var instant: Instant { Instant(nanosecondsSinceEpoch: calendar.now) }
}
