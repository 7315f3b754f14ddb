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
        let batch = batches.insert(Batch(replica: Int32(replica), requests: replicas[replica].batch))
        replicas[replica].batch.removeAll(keepingCapacity: true)
        replicas[replica].batchGeneration = .min
        calendar.schedule(after: scenario.network.backendRTT.sample(&rNetwork) / 2, .kafkaArrive(batch: batch))
    }

    func brokerService(_ batch: Int32, _ random: inout RandomStream) -> Int64 {
        scenario.kafka.batchService.sample(&random) + Int64(scenario.kafka.perMessageService * Double(batches[batch].requests.count))
    }

    mutating func kafkaArrive(_ b: Int32) {
        if broker.arrive(b, at: calendar.now) == .start {
            calendar.schedule(after: brokerService(b, &rKafka), .kafkaServed(batch: b))
        }
    }

    /// The broker appended the batch to the deals' partitions.
    mutating func kafkaServed(_ b: Int32) {
        if let next = broker.depart(at: calendar.now, expired: &expired) {
            calendar.schedule(after: brokerService(next, &rKafka), .kafkaServed(batch: next))
        }
        for entry in batches[b].requests {
            partitionProduced[Int(deal(ofEntry: entry)) % partitionProduced.count] += 1
        }
        stats.produced += batches[b].requests.count
        stats.lastProduceAt = calendar.now
        noteLag()
        calendar.schedule(after: scenario.network.backendRTT.sample(&rNetwork) / 2, .kafkaAck(batch: b))
    }

    mutating func kafkaAck(_ b: Int32) {
        for r in batches[b].requests where r >= 0 { nextStep(r) }
        batches.remove(b)
    }

    /// A consumer fetches up to `maxPollRecords` from its partitions, or polls again later.
    mutating func consumerPoll(_ c: Int32) {
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
        noteLag()
        if lag == 0 { stats.drainedAt = calendar.now }
        calendar.schedule(at: calendar.now, .consumerPoll(consumer: c))
    }

    mutating func noteLag() {
        let current = lag
        if current > stats.maxLag {
            stats.maxLag = current
            stats.maxLagAt = calendar.now
        }
        stats.lagSeries.set(Double(current), at: calendar.now)
    }
}
