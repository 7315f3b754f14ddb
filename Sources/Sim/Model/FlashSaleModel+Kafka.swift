extension FlashSaleModel {
    /// A batch entry for an event no request waits for (the outbox relay's): the deal, negated.
    static func detached(deal: Int32) -> Int32 { -1 - deal }

    /// The deal of a batch entry: a waiting request's, or a detached event's.
    func deal(ofEntry entry: Int32) -> Int32 { entry >= 0 ? requests[entry].deal : -1 - entry }

    /// The replica's producer adds the request's event to its batch: sent when full or when the
    /// linger time passes; the request waits for the acknowledgement (acks=all).
    mutating func produce(_ r: Int32) {
        produce(r, replica: Int(requests[r].replica))
    }

    /// The outbox: a change's `entries` written to Redis, which the relay carries to Kafka as
    /// `messages` events (a reservation's journal entry is two events, `StockReserved` and
    /// `OrderPlaced`). While the writer is down the entries wait in the outbox.
    mutating func relay(deal: Int32, messages: Int, entries: Int, replica: Int) {
        outboxDepth += entries
        noteBacklog()
        guard resumes(.writer) <= calendar.now else { return heldOutbox.append((deal, messages, entries)) }
        forward(deal: deal, messages: messages, entries: entries, replica: replica)
    }

    /// The relay hands outbox entries' messages to the producer.
    mutating func forward(deal: Int32, messages: Int, entries: Int, replica: Int) {
        replicas[replica].batchOutboxEntries += entries
        for _ in 0..<messages { produce(Self.detached(deal: deal), replica: replica) }
    }

    /// Adds a batch entry (a waiting request, or a detached event) to `replica`'s producer.
    mutating func produce(_ entry: Int32, replica: Int) {
        replicas[replica].batch.append(entry)
        if replicas[replica].batch.count == 1, scenario.kafka.linger > 0 {
            lingerGeneration &+= 1
            replicas[replica].batchGeneration = lingerGeneration
            lingerReplica[lingerGeneration] = Int32(replica)
            calendar.schedule(after: scenario.kafka.linger, .kafkaLinger(batch: lingerGeneration))
        }
        if replicas[replica].batch.count >= scenario.kafka.batchSize || scenario.kafka.linger == 0 { sendBatch(replica) }
    }

    mutating func kafkaLinger(_ generation: Int32) {
        guard let replica = lingerReplica.removeValue(forKey: generation) else { return }
        let r = Int(replica)
        guard replicas[r].batchGeneration == generation, !replicas[r].batch.isEmpty else { return }
        sendBatch(r)
    }

    mutating func sendBatch(_ replica: Int) {
        let batch = batches.insert(Batch(replica: Int32(replica), requests: replicas[replica].batch, outboxEntries: replicas[replica].batchOutboxEntries))
        replicas[replica].batch.removeAll(keepingCapacity: true)
        replicas[replica].batchOutboxEntries = 0
        replicas[replica].batchGeneration = .min
        calendar.schedule(after: scenario.network.backendRTT.sample(&rNetwork) / 2, .kafkaArrive(batch: batch))
    }

    func brokerService(_ batch: Int32, _ random: inout RandomStream) -> Int64 {
        scenario.kafka.batchService.sample(&random) + Int64(scenario.kafka.perMessageService * Double(batches[batch].requests.count))
    }

    mutating func kafkaArrive(_ b: Int32) {
        if broker.arrive(b, at: calendar.now) == .start { startBroker(b) }
    }

    /// The broker starts appending a batch: now, or when it is back from a fault.
    mutating func startBroker(_ b: Int32) {
        calendar.schedule(at: resumes(.broker) + brokerService(b, &rKafka), .kafkaServed(batch: b))
    }

    /// The broker appended the batch to the deals' partitions.
    mutating func kafkaServed(_ b: Int32) {
        if let next = broker.depart(at: calendar.now, expired: &expired) { startBroker(next) }
        for entry in batches[b].requests {
            partitionProduced[Int(deal(ofEntry: entry)) % partitionProduced.count] += 1
        }
        stats.produced += batches[b].requests.count
        stats.lastProduceAt = calendar.now
        noteBacklog()
        // Consumers that stopped polling when the sale went quiet fetch what came after.
        for c in consumers.indices where !consumers[c].polling {
            consumers[c].polling = true
            calendar.schedule(at: calendar.now, .consumerPoll(consumer: Int32(c)))
        }
        calendar.schedule(after: scenario.network.backendRTT.sample(&rNetwork) / 2, .kafkaAck(batch: b))
    }

    /// The producer hears the acknowledgement: waiting requests go on, and the relay deletes the
    /// batch's entries from the outbox.
    mutating func kafkaAck(_ b: Int32) {
        for r in batches[b].requests where r >= 0 { resume(r, .next) }
        if batches[b].outboxEntries > 0 {
            outboxDepth -= batches[b].outboxEntries
            noteBacklog()
        }
        batches.remove(b)
    }

    /// A consumer fetches up to `maxPollRecords` from its partitions, or polls again later.
    mutating func consumerPoll(_ c: Int32) {
        // Nothing to fetch from a broker that is down, and no consumer while the writer is.
        let back = max(resumes(.broker), resumes(.writer), resumes(.consumer))
        if back > calendar.now { return calendar.schedule(at: back, .consumerPoll(consumer: c)) }
        var consumer = consumers[Int(c)]
        var take = 0
        for p in consumer.partitions where take < scenario.kafka.maxPollRecords {
            let n = min(partitionProduced[p] - partitionFetched[p], scenario.kafka.maxPollRecords - take)
            partitionFetched[p] += n
            take += n
        }
        if take == 0 {
            if arrivalsDone, journeys.live == 0, requests.live == 0 {
                consumer.polling = false
            } else {
                calendar.schedule(after: scenario.kafka.pollInterval, .consumerPoll(consumer: c))
            }
            consumers[Int(c)] = consumer
            return
        }
        consumer.inFlight = take
        consumers[Int(c)] = consumer
        // The writer tier on the request path's cores at idle priority: the batch, its MongoDB
        // write included, is CPU work on the cores the requests leave.
        if let writer = scenario.http.machine?.writer, replicas[0].shared != nil {
            let work = Int64((Double(writer.cpuPerMessage.sample(&rKafka)) * Double(take)).rounded())
            replicas[0].shared!.arriveIdle(c, work: work, at: calendar.now)
            return scheduleSharedCPU(0)
        }
        calendar.schedule(after: Int64(Double(take) / scenario.kafka.consumerRate * 1e9), .consumerProcessed(consumer: c))
    }

    /// The consumer writes the batch to MongoDB (one insert_many), then commits.
    mutating func consumerProcessed(_ c: Int32) {
        let job = mongoJobs.insert((consumer: c, request: -1, count: consumers[Int(c)].inFlight))
        if mongo.arrive(job, at: calendar.now) == .start { startMongo(job) }
    }

    mutating func committed(_ count: Int, by c: Int32) {
        stats.committed += count
        consumers[Int(c)].inFlight = 0
        noteBacklog()
        if lag == 0 {
            stats.drainedAt = calendar.now
            if arrivalsDone, stats.caughtUpAt == nil {
                stats.caughtUpAt = calendar.now
                stats.caughtUpCommitted = stats.committed
            }
        }
        calendar.schedule(at: calendar.now, .consumerPoll(consumer: c))
    }

    /// Records the Kafka lag and the outbox depth after either changed.
    mutating func noteBacklog() {
        let current = lag
        if current > stats.maxLag {
            stats.maxLag = current
            stats.maxLagAt = calendar.now
        }
        stats.lagSeries.set(Double(current), at: calendar.now)
        if !scenario.faults.isEmpty { watchFaults() }
    }
}
