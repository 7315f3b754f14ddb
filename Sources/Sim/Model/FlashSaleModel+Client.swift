import Domain
import Foundation

extension FlashSaleModel {
    // MARK: Arrivals

    mutating func scheduleNextArrival() {
        let gap = scenario.traffic.process == .poisson ? -log(rArrivals.openUnit()) : 1.0
        nextMark += gap
        guard let time = arrivals.time(atCumulative: nextMark), time >= calendar.now else {
            arrivalsDone = true
            return
        }
        calendar.schedule(at: time, .arrival)
    }

    /// A new visit: a user picked from the population, a deal picked by weight.
    mutating func arrive() {
        let traffic = scenario.traffic
        let user = Int32(rJourney.below(traffic.users))
        let u = rJourney.unit()
        var deal: Int32 = 0
        while deal < Int32(dealCumulativeWeights.count - 1), u >= dealCumulativeWeights[Int(deal)] { deal += 1 }
        journeySerial += 1
        stats.iterations += 1
        let id = journeys.insert(Journey(serial: journeySerial, user: user, deal: deal, pollsLeft: traffic.journey.polls))
        advanceJourney(id)
        scheduleNextArrival()
    }

    /// Picks the journey's next request and sends it after a think time (none before the first),
    /// or ends the journey.
    mutating func advanceJourney(_ id: Int32, from time: Int64? = nil) {
        let j = scenario.traffic.journey
        var journey = journeys[id]
        let first = journey.phase == 0
        var next: Scenario.Operation?
        while next == nil, journey.phase < 6 {
            switch journey.phase {
            case 0:
                journey.phase = 1
                if rJourney.unit() < j.browseProbability { next = .listDeals }
            case 1:
                journey.phase = 2
                if rJourney.unit() < j.viewProbability { next = .viewDeal }
            case 2:
                journey.phase = 3
                if rJourney.unit() < j.orderProbability { next = .placeOrder }
            case 3:
                guard journey.order >= 0 else { journey.phase = 6; break }
                if journey.pollsLeft > 0 {
                    journey.pollsLeft -= 1
                    next = .orderStatus
                } else {
                    journey.phase = 4
                }
            case 4:
                journey.phase = 5
                if rJourney.unit() < j.payProbability { next = .payOrder } else { stats.abandoned += 1 }
            case 5:
                journey.phase = 6
                if orders[Int(journey.order)].status == .paid, rJourney.unit() < j.cancelProbability { next = .cancelOrder }
            default:
                journey.phase = 6
            }
        }
        guard let op = next else {
            journeys.remove(id)
            return
        }
        journey.op = op
        journey.attempt = 0
        journeys[id] = journey
        let think = first ? 0 : j.thinkTime.sample(&rJourney)
        calendar.schedule(at: (time ?? calendar.now) + think, .send(journey: id))
    }

    /// The client sends (or re-sends) the journey's current request.
    mutating func send(_ id: Int32) {
        var journey = journeys[id]
        sendSerial &+= 1
        journey.generation = sendSerial
        journey.sentAt = calendar.now
        journey.waiting = true
        journeys[id] = journey
        stats.offered.add(1, at: calendar.now)
        stats.ops[journey.op.rawValue].sent += 1
        let request = requests.insert(
            Request(
                journey: id, generation: journey.generation, op: journey.op, replica: -1, sentAt: calendar.now,
                order: journey.order, deal: journey.deal, user: journey.user, serial: journey.serial))
        let oneWay = scenario.network.clientRTT.sample(&rNetwork) / 2
        calendar.schedule(after: oneWay, .serverArrive(request: request))
        timeouts.append((calendar.now + scenario.traffic.client.timeout, id, journey.generation))
        if !timeoutCheckPending {
            timeoutCheckPending = true
            calendar.schedule(at: calendar.now + scenario.traffic.client.timeout, .timeoutCheck)
        }
    }

    /// The client receives the answer to `request` at `receivedAt` (if it still waits for it).
    mutating func deliver(_ request: Request, receivedAt: Int64) {
        let op = request.op.rawValue
        switch request.outcome {
        case .rejected: stats.ops[op].rejected += 1
        case .shed: break
        case .business: stats.ops[op].business += 1
        case .ok: stats.ops[op].ok += 1
        }
        var journey = journeys[request.journey]
        guard journey.waiting, journey.generation == request.generation,
            receivedAt <= journey.sentAt + scenario.traffic.client.timeout
        else {
            stats.ops[op].late += 1  // the client already gave up: the timeout handler counts it
            return
        }
        let latency = receivedAt - journey.sentAt
        stats.latency[op].record(latency)
        stats.overallLatency.record(latency)
        stats.recordSecond(latency, at: receivedAt)
        journey.waiting = false
        if request.op == .placeOrder, request.order >= 0 { journey.order = request.order }
        journeys[request.journey] = journey
        if request.outcome == .rejected || request.outcome == .shed {
            retryOrEnd(request.journey, answeredAt: receivedAt)
            return
        }
        // The answer arrives at `receivedAt`; the next request follows a think time from there.
        advanceJourney(request.journey, from: receivedAt)
    }

    /// A shed or rejected request, or a time-out: retry with the same idempotency key, or give up.
    /// Giving up on a read (the deal list, the deal, a status poll) goes on with the visit, as the
    /// k6 scripts do; giving up on an order, a payment or a cancellation ends it.
    mutating func retryOrEnd(_ id: Int32, answeredAt time: Int64? = nil) {
        let client = scenario.traffic.client
        var journey = journeys[id]
        if journey.attempt < client.maxRetries, rClient.unit() < client.retryProbability {
            journey.attempt += 1
            journeys[id] = journey
            stats.retries += 1
            calendar.schedule(after: client.retryBackoff.sample(&rClient), .send(journey: id))
        } else if journey.op == .listDeals || journey.op == .viewDeal || journey.op == .orderStatus {
            stats.gaveUp += 1
            advanceJourney(id, from: time ?? calendar.now)
        } else {
            stats.gaveUp += 1
            journeys.remove(id)
        }
    }

    /// Fires at the deadline of the oldest request still waiting. Entries of answered requests
    /// are dropped whatever their deadline, so the next check is the next real deadline: one
    /// check per time-out period rather than one per request.
    mutating func timeoutCheck() {
        let now = calendar.now
        timeoutCheckPending = false
        while let head = timeouts.first {
            let journey = journeys[head.journey]
            let waiting = journey.waiting && journey.generation == head.generation
            if waiting, head.deadline > now { break }
            _ = timeouts.popFirst()
            guard waiting else { continue }
            journeys[head.journey].waiting = false
            stats.ops[journey.op.rawValue].timeouts += 1
            stats.timeoutSeries.add(1, at: now)
            retryOrEnd(head.journey)
        }
        if let head = timeouts.first {
            timeoutCheckPending = true
            calendar.schedule(at: head.deadline, .timeoutCheck)
        }
    }
}
