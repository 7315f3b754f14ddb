import Domain

extension FlashSaleModel {
    // MARK: HTTP tier

    mutating func serverArrive(_ r: Int32) {
        let now = calendar.now
        if case .rateLimit(let rate, let burst) = scenario.http.admission {
            tokens = min(burst, tokens + rate * Double(now - tokensAt) / 1e9)
            tokensAt = now
            guard tokens >= 1 else { return shed(r) }
            tokens -= 1
        }
        // The API process is down: the connection is refused.
        if resumes(.api) > now { return reject(r) }
        guard let replica = pickReplica() else { return reject(r) }
        if case .concurrencyLimit(let limit) = scenario.http.admission {
            let http = replicas[Int(replica)].http
            guard http.busy + http.queueLength < limit else { return shed(r) }
        }
        requests[r].replica = replica
        noteArrival()
        switch replicas[Int(replica)].http.arrive(r, at: now) {
        case .start: startCPU(r)
        case .queued: break
        case .rejected: reject(r)
        }
    }

    /// Round robin over the ready replicas.
    mutating func pickReplica() -> Int32? {
        for _ in 0..<replicas.count {
            roundRobin = (roundRobin + 1) % replicas.count
            if replicas[roundRobin].ready { return Int32(roundRobin) }
        }
        return nil
    }

    /// Admission control refused the request: a fast 429.
    mutating func shed(_ r: Int32) {
        requests[r].outcome = .shed
        stats.ops[requests[r].op.rawValue].shed += 1
        stats.shedSeries.add(1, at: calendar.now)
        answer(r, after: scenario.http.shedLatency.sample(&rCPU))
    }

    /// No worker will take the request (queue full, or it waited past the request time-out): a 503.
    mutating func reject(_ r: Int32) {
        requests[r].outcome = .rejected
        stats.errorSeries.add(1, at: calendar.now)
        answer(r, after: 0)
    }

    mutating func startCPU(_ r: Int32) {
        let replica = Int(requests[r].replica)
        // With event loops the wake-up is the loop's, when it was idle (`runSegment`).
        if hasEventLoops { return enterSharedCPU(r) }
        if let machine = scenario.http.machine {
            let wake = machine.wakeUp.sample(&rCPU)
            return wake > 0 ? calendar.schedule(after: wake, .cpuWake(request: r)) : enterSharedCPU(r)
        }
        if replicas[replica].cpu.arrive(r, at: calendar.now) == .start {
            calendar.schedule(after: scenario.http.cpu[requests[r].op.rawValue].sample(&rCPU), .cpuDone(request: r))
        }
    }

    mutating func cpuDone(_ r: Int32) {
        let replica = Int(requests[r].replica)
        if let next = replicas[replica].cpu.depart(at: calendar.now, expired: &expired) {
            calendar.schedule(after: scenario.http.cpu[requests[next].op.rawValue].sample(&rCPU), .cpuDone(request: next))
        }
        runStep(r)
    }

    /// A request's CPU work joins the replica's time-shared cores: the server's, and the share
    /// `demandOnPath` of what the processes beside it spend on the request (the machine's
    /// `demand`: the load generator sending it and reading the answer, Redis running its
    /// commands), which the request waits on as on the server's; the rest of the demand competes
    /// for the cores as a job of its own.
    mutating func enterSharedCPU(_ r: Int32) {
        let replica = Int(requests[r].replica), machine = scenario.http.machine!, op = requests[r].op.rawValue
        // With event loops each segment counts itself (`runSegment`).
        if !hasEventLoops { replicas[replica].cpu.enter(at: calendar.now) }
        let multipliers = machine.multipliers(at: requestRate)
        // At a low rate a request costs more CPU than at a high one (`cpuByRate`); the cheapest
        // measured cost is the request's own work, on its path, and the rest is the overhead of
        // waking threads and virtual CPUs, which takes the cores but is not on the request's way.
        let least = machine.leastMultipliers
        let cpu = scenario.http.cpu[op].sample(&rCPU)
        var work = scaled(cpu, by: least.server)
        var overhead = scaled(cpu, by: multipliers.server - least.server)
        stats.serverCPU += Double(work + overhead)
        if !machine.demand.isEmpty {
            let demand = machine.demand[op].sample(&rCPU)
            let onPath = Int64((Double(scaled(demand, by: least.others)) * machine.demandOnPath).rounded())
            work += onPath
            overhead += scaled(demand, by: multipliers.others) - onPath
        }
        // The rest competes for the cores and no request waits on it: a job of its own (-1), or
        // work for the next of the other processes' threads.
        if overhead > 0 { hasOtherThreads ? runOtherWork(overhead, replica: replica) : replicas[replica].shared!.arrive(-1, work: overhead, at: calendar.now) }
        if hasEventLoops {
            if overhead > 0 { scheduleSharedCPU(replica) }
            requests[r].cpuLeft = work
            requests[r].cpuShare = work / Int64(Self.roundTrips[Int(op)] + 1)
            return resume(r, .run)
        }
        replicas[replica].shared!.arrive(r, work: work, at: calendar.now)
        scheduleSharedCPU(replica)
    }

    var hasEventLoops: Bool { (scenario.http.machine?.eventLoops ?? 0) > 0 }
    var hasOtherThreads: Bool { (scenario.http.machine?.otherThreads ?? 0) > 0 }

    /// The others' work beside a request goes to the next of their threads in turn, each running
    /// one piece at a time as a job on the cores (job -2 - thread), after the ones before it.
    mutating func runOtherWork(_ work: Int64, replica: Int) {
        let (thread, now) = replicas[replica].others.hand(work)
        if now { replicas[replica].shared!.arrive(Int32(-2 - thread), work: work, at: calendar.now) }
    }

    /// An other process's thread finished a piece of work: it takes the next one queued.
    mutating func otherWorkDone(thread: Int, replica: Int) {
        guard let next = replicas[replica].others.finished(thread) else { return }
        replicas[replica].shared!.arrive(Int32(-2 - thread), work: next, at: calendar.now)
    }

    /// Round trips in each operation's program (by `Operation.rawValue`): the steps that wait on
    /// Redis, MongoDB, the provider or, when the request waits for it, Kafka.
    static let roundTrips: [Int] = Scenario.Operation.allCases.map { op in
        (0..<lastStep(op)).filter { step(op, $0) != .journalledIfChanged }.count
    }

    /// Goes on with the request as `then` says; with event loops, after a segment of its CPU:
    /// a round trip's share, or all it has left before the answer.
    mutating func resume(_ r: Int32, _ then: Resume) {
        if hasEventLoops {
            let left = requests[r].cpuLeft
            let segment = then == .respond ? left : min(left, requests[r].cpuShare)
            if segment > 0 { return runSegment(r, work: segment, then: then) }
        }
        carryOn(r, then)
    }

    mutating func carryOn(_ r: Int32, _ then: Resume) {
        switch then {
        case .run: runStep(r)
        case .next: nextStep(r)
        case .business: finishBusiness(r)
        case .respond: respond(r)
        }
    }

    /// A segment of the request's CPU joins the next event loop: it runs now if the loop is idle
    /// (after the scheduler wakes the loop's thread), else after the segments queued there.
    mutating func runSegment(_ r: Int32, work: Int64, then: Resume) {
        let replica = Int(requests[r].replica)
        requests[r].cpuLeft -= work
        requests[r].segment = work
        requests[r].afterCPU = then
        replicas[replica].cpu.enter(at: calendar.now)
        let (loop, now) = replicas[replica].loops.hand(Int64(r))
        requests[r].loop = Int16(loop)
        guard now else { return }
        let wake = scenario.http.machine!.wakeUp.sample(&rCPU)
        wake > 0 ? calendar.schedule(after: wake, .cpuWake(request: r)) : startSegment(r)
    }

    /// The loop runs the segment: one job on the time-shared cores.
    mutating func startSegment(_ r: Int32) {
        let replica = Int(requests[r].replica)
        replicas[replica].shared!.arrive(r, work: requests[r].segment, at: calendar.now)
        scheduleSharedCPU(replica)
    }

    /// The segment is done: its loop takes the next one queued, and the request goes on.
    mutating func segmentDone(_ r: Int32) {
        let replica = Int(requests[r].replica)
        if let next = replicas[replica].loops.finished(Int(requests[r].loop)) { startSegment(Int32(next)) }
        carryOn(r, requests[r].afterCPU)
    }

    /// Keeps the last second's arrivals at the tier when the machine's CPU depends on the rate.
    mutating func noteArrival() {
        guard scenario.http.machine?.cpuByRate.isEmpty == false else { return }
        recentArrivals.append(calendar.now)
        while let first = recentArrivals.first, first <= calendar.now - 1_000_000_000 { recentArrivals.removeFirst() }
    }

    /// Requests a second arriving at the tier, over the last second (or since the start).
    var requestRate: Double {
        Double(recentArrivals.count) / max(0.001, min(1, Double(calendar.now) / 1e9))
    }

    func scaled(_ work: Int64, by multiplier: Double) -> Int64 {
        multiplier == 1 ? work : Int64((Double(work) * multiplier).rounded())
    }

    mutating func scheduleSharedCPU(_ replica: Int) {
        guard let next = replicas[replica].shared!.nextEvent(now: calendar.now) else { return }
        calendar.schedule(at: next, .cpuShared(replica: Int32(replica), generation: replicas[replica].shared!.generation))
    }

    /// The shared cores' scheduled change: the requests whose CPU work is done go on; a throttled
    /// period's end or the quota running out only moves the next change.
    mutating func sharedCPUChanged(_ replica: Int, generation: Int32) {
        guard replicas[replica].shared?.generation == generation else { return }
        finishedCPU.removeAll(keepingCapacity: true)
        while let r = replicas[replica].shared!.complete(at: calendar.now) {
            if r <= -2 { otherWorkDone(thread: Int(-2 - r), replica: replica) } else { finishedCPU.append(r) }
        }
        var written: [Int32] = []
        while let c = replicas[replica].shared!.completeIdle(at: calendar.now) { written.append(c) }
        scheduleSharedCPU(replica)
        // A batch whose MongoDB is down waits for it in the MongoDB tier.
        for c in written { resumes(.mongo) > calendar.now ? consumerProcessed(c) : committed(consumers[Int(c)].inFlight, by: c) }
        for r in finishedCPU where r >= 0 {
            replicas[replica].cpu.leave(at: calendar.now)
            hasEventLoops ? segmentDone(r) : runStep(r)
        }
    }

    /// Carries out the request's current step.
    mutating func runStep(_ r: Int32) {
        let request = requests[r]
        switch Self.step(request.op, request.step) {
        case .redisReadIfPaid, .refundIfPaid:
            guard request.order >= 0, orders[Int(request.order)].status == .paid else { return nextStep(r) }
            if Self.step(request.op, request.step) == .refundIfPaid {
                return calendar.schedule(after: scenario.payment.latency.sample(&rPayment), .paymentDone(request: r))
            }
            let replica = Int(request.replica)
            if replicas[replica].pool.arrive(r, at: calendar.now) == .start { sendToRedis(r) }
        case .redisRead, .redisGate:
            let replica = Int(request.replica)
            if replicas[replica].pool.arrive(r, at: calendar.now) == .start { sendToRedis(r) }
        case .mongoIfMiss:
            if rMongo.unit() < scenario.redis.cacheHitRatio { return nextStep(r) }
            let job = mongoJobs.insert((consumer: -1, request: r, count: 0))
            if mongo.arrive(job, at: calendar.now) == .start { startMongo(job) }
        case .kafkaIfChanged, .journalledIfChanged:
            guard request.changed else { return nextStep(r) }
            guard !scenario.kafka.requestWaitsForAck else { return produce(r) }
            // The outbox: the events produced by the relay later, and one Redis round trip now
            // unless the gate step wrote the entries itself.
            let writes = Self.outboxWrites(request.op, refund: request.order >= 0 && orders[Int(request.order)].status == .refunded)
            relay(deal: request.deal, messages: writes.messages, entries: writes.entries, replica: Int(request.replica))
            if Self.step(request.op, request.step) == .journalledIfChanged { return nextStep(r) }
            let replica = Int(request.replica)
            if replicas[replica].pool.arrive(r, at: calendar.now) == .start { sendToRedis(r) }
        case .payment:
            guard request.order >= 0 else { return finishBusiness(r) }
            let order = orders[Int(request.order)]
            guard order.payability(at: instant) == .payable else {
                stats.paymentsRefused += 1
                return finishBusiness(r)
            }
            // The opening stored the requested payment and its event (one entry, one message).
            relay(deal: request.deal, messages: 1, entries: 1, replica: Int(request.replica))
            calendar.schedule(after: scenario.payment.latency.sample(&rPayment), .paymentDone(request: r))
        case .respond:
            resume(r, .respond)
        }
    }

    mutating func nextStep(_ r: Int32) {
        requests[r].step += 1
        runStep(r)
    }

    /// Skips to the answer with a business outcome (sold out, over the limit, declined, ...).
    mutating func finishBusiness(_ r: Int32) {
        requests[r].outcome = .business
        requests[r].step = Self.lastStep(requests[r].op)
        runStep(r)
    }

    /// The provider answered: a charge may be declined; a refund goes on.
    mutating func paymentDone(_ r: Int32) {
        if requests[r].op == .payOrder, rPayment.unit() < scenario.payment.declineRate {
            stats.declined += 1
            relay(deal: requests[r].deal, messages: 1, entries: 1, replica: Int(requests[r].replica))  // PaymentFailed
            return resume(r, .business)
        }
        resume(r, .next)
    }

    /// The request is answered: its worker is freed and the client hears back a half round trip later.
    mutating func respond(_ r: Int32) {
        let replica = Int(requests[r].replica)
        if let next = replicas[replica].http.depart(at: calendar.now, expired: &expired) { startCPU(next) }
        for late in expired { reject(late) }
        expired.removeAll(keepingCapacity: true)
        answer(r, after: 0)
    }

    mutating func answer(_ r: Int32, after delay: Int64) {
        let receivedAt = calendar.now + delay + scenario.network.clientRTT.sample(&rNetwork) / 2
        if !scenario.faults.isEmpty { watchAnswer(r, at: receivedAt) }
        if requests[r].outcome == .ok || requests[r].outcome == .business {
            stats.achieved.add(1, at: receivedAt)
        }
        stats.lastAnswerAt = max(stats.lastAnswerAt, receivedAt)
        deliver(requests[r], receivedAt: receivedAt)
        requests.remove(r)
    }

    // MARK: Redis

    /// The command travels half a round trip and is served in the order sent (Redis runs one
    /// command at a time); its end is known now, so only the completion is an event.
    mutating func sendToRedis(_ r: Int32) {
        let arrival = calendar.now + scenario.network.backendRTT.sample(&rNetwork) / 2
        if resumes(.redis, at: arrival) > arrival {
            // Redis is down: the command fails (the connection is refused) and so does the
            // request, except a catalogue read, which the API answers from its in-process cache
            // (the live router's stale-if-error).
            if requests[r].op != .listDeals, requests[r].op != .viewDeal { requests[r].outcome = .rejected }
            return calendar.schedule(at: arrival + scenario.network.backendRTT.sample(&rNetwork) / 2, .redisBack(request: r))
        }
        let (_, end) = redis.serve(arrival: arrival, service: redisServiceTime(r))
        calendar.schedule(at: end, .redisServed(request: r))
    }

    mutating func redisServiceTime(_ r: Int32) -> Int64 {
        let request = requests[r]
        if Self.step(request.op, request.step) == .redisGate {
            return scenario.redis.gateService.sample(&rRedis)
        }
        let commands = request.op == .listDeals ? scenario.redis.pipeline : (request.op == .viewDeal ? 2 : 1)
        var total: Int64 = 0
        for _ in 0..<commands { total += scenario.redis.readService.sample(&rRedis) }
        return total
    }

    /// Redis has run the command: a stock-gate script decides now, atomically.
    mutating func redisServed(_ r: Int32) {
        if Self.step(requests[r].op, requests[r].step) == .redisGate { decideAtGate(r) }
        calendar.schedule(after: scenario.network.backendRTT.sample(&rNetwork) / 2, .redisBack(request: r))
    }

    mutating func redisBack(_ r: Int32) {
        let replica = Int(requests[r].replica)
        if let next = replicas[replica].pool.depart(at: calendar.now, expired: &expired) { sendToRedis(next) }
        if requests[r].outcome == .rejected { return resume(r, .respond) }
        resume(r, requests[r].outcome == .business ? .business : .next)
    }

    // MARK: MongoDB

    /// MongoDB starts a job: now, or when it is back from a fault.
    mutating func startMongo(_ job: Int32) {
        let j = mongoJobs[job]
        let service: Int64
        if j.consumer >= 0 {
            service = scenario.mongo.batchBase.sample(&rMongo) + Int64(scenario.mongo.perDocument * Double(j.count))
        } else {
            service = scenario.mongo.read.sample(&rMongo)
        }
        calendar.schedule(at: resumes(.mongo) + service, .mongoDone(job: job))
    }

    mutating func mongoDone(_ job: Int32) {
        if let next = mongo.depart(at: calendar.now, expired: &expired) { startMongo(next) }
        let j = mongoJobs[job]
        mongoJobs.remove(job)
        if j.consumer >= 0 {
            committed(j.count, by: j.consumer)
        } else {
            resume(j.request, .next)
        }
    }
}
