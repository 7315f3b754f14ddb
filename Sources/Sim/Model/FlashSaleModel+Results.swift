import Domain

extension FlashSaleModel {
    /// Builds the statistics for the run that just ended.
    mutating func finish() -> RunStatistics {
        let end = calendar.now
        for i in replicas.indices {
            replicas[i].http.advance(to: end); replicas[i].cpu.advance(to: end); replicas[i].pool.advance(to: end)
            replicas[i].http.closeSeries(); replicas[i].cpu.closeSeries()
        }
        broker.advance(to: end); mongo.advance(to: end)
        broker.closeSeries(); mongo.closeSeries()
        stats.readySeries.set(Double(readyReplicas), at: end)
        return stats
    }

    /// The run's result (call after `run()`).
    public func result(_ stats: RunStatistics, codeVersion: String, scenarioHash: String) -> RunResult {
        let end = calendar.now
        let seconds = max(1, Int((end + 999_999_999) / 1_000_000_000))
        let arrivalSeconds = Double(arrivals.end) / 1e9
        let ops = Scenario.Operation.allCases.map { op in
            operationStats(op.name, stats.ops[op.rawValue], stats.latency[op.rawValue])
        }
        var all = RunStatistics.OperationCounts()
        for c in stats.ops {
            all.sent += c.sent; all.ok += c.ok; all.business += c.business; all.rejected += c.rejected
            all.shed += c.shed; all.timeouts += c.timeouts
        }
        let overall = operationStats("all", all, stats.overallLatency)
        let sent = Double(max(1, all.sent))

        let series = series(stats, seconds: seconds)
        let resources = resourceStats(end: end, series: series)
        let offered = stats.offered.padded(to: seconds)
        let perUserOK = gates.allSatisfy { gate in gate.inventory.holdings.values.allSatisfy { $0 <= gate.terms.perUserLimit } }
        let conservation = stats.stockViolations == 0 && gates.allSatisfy { $0.inventory.checkInvariants().isEmpty }
        let sold = stats.soldUnits.reduce(0, +), total = stats.totalUnits.reduce(0, +)
        let soldOut = stats.soldOutAt.compactMap { $0 }.min()

        return RunResult(
            scenario: scenario.name, scenarioHash: scenarioHash, seed: seed, codeVersion: codeVersion,
            arrivalProcess: scenario.traffic.process.rawValue, simulatedSeconds: Double(end) / 1e9, arrivalSeconds: arrivalSeconds,
            throughput: RunResult.Throughput(
                iterations: stats.iterations, requests: all.sent, offeredRps: Double(all.sent) / max(arrivalSeconds, 1e-9),
                achievedRps: Double(all.ok + all.business) / max(Double(stats.lastAnswerAt) / 1e9, 1e-9), peakOfferedRps: offered.max() ?? 0),
            overall: overall, operations: ops,
            rates: RunResult.Rates(
                errorRate: Double(all.rejected) / sent, shedRate: Double(all.shed) / sent, timeoutRate: Double(all.timeouts) / sent),
            orders: RunResult.Orders(
                accepted: stats.accepted, paid: stats.paid, cancelled: stats.cancelled, refunded: stats.refunded, expired: stats.expired,
                declined: stats.declined, latePaymentsRefunded: stats.latePaymentsRefunded, duplicates: stats.duplicates,
                soldOutAnswers: stats.soldOutAnswers, limitAnswers: stats.limitAnswers, soldOutAtSeconds: soldOut.map { Double($0) / 1e9 },
                totalUnits: total, soldUnits: sold, oversoldUnits: max(0, sold - total) + stats.stockViolations,
                conservationHolds: conservation, perUserLimitHolds: perUserOK, unresolvedReservations: openReservations),
            resources: resources, bottleneck: bottleneck(resources),
            kafka: RunResult.Kafka(
                produced: stats.produced, consumed: stats.committed, maxLag: stats.maxLag, maxLagAtSeconds: Double(stats.maxLagAt) / 1e9,
                drainSeconds: stats.produced == 0 ? 0 : Double(max(0, stats.drainedAt - stats.lastProduceAt)) / 1e9,
                caughtUpSeconds: stats.caughtUpAt.map { Double(max(0, $0 - arrivals.end)) / 1e9 } ?? (stats.committed >= stats.produced ? 0 : nil),
                caughtUpConsumed: stats.caughtUpCommitted ?? (stats.committed >= stats.produced ? stats.committed : nil)),
            replicas: RunResult.Replicas(
                initial: scenario.autoscaling.map { max($0.minReplicas, min($0.maxReplicas, scenario.http.replicas)) } ?? scenario.http.replicas,
                max: max(stats.maxReplicas, replicas.count(where: { $0.ready })), final: readyReplicas,
                firstScaleUpAtSeconds: stats.firstScaleUpAt.map { Double($0) / 1e9 }),
            series: series, faults: faultOutcomes(stats), eventsProcessed: calendar.processed, timing: nil, cores: cores(stats, over: arrivalSeconds))
    }

    /// On a machine, the cores its requests and the processes beside them kept busy over the
    /// arrival window, and of them the server's (nil: the cores are dedicated servers).
    func cores(_ stats: RunStatistics, over seconds: Double) -> RunResult.Cores? {
        guard scenario.http.machine != nil, seconds > 0 else { return nil }
        let busy = replicas.reduce(0) { $0 + ($1.shared?.busyArea ?? 0) }
        return RunResult.Cores(requestPath: busy / 1e9 / seconds, server: stats.serverCPU / 1e9 / seconds)
    }

    func faultOutcomes(_ stats: RunStatistics) -> [RunResult.FaultOutcome]? {
        guard !scenario.faults.isEmpty else { return nil }
        return zip(scenario.faults, stats.faults).map { fault, watch in
            RunResult.FaultOutcome(
                component: fault.component.rawValue, startSeconds: Double(fault.start) / 1e9, durationSeconds: Double(fault.duration) / 1e9,
                answered: watch.answered, errors: watch.errors, outboxPeak: watch.outboxPeak, kafkaLagPeak: watch.lagPeak,
                drainedAfterSeconds: watch.drainedAt.map { Double($0 - fault.end) / 1e9 })
        }
    }

    func operationStats(_ name: String, _ c: RunStatistics.OperationCounts, _ l: LatencyRecorder) -> RunResult.OperationStats {
        RunResult.OperationStats(
            name: name, requests: c.sent, ok: c.ok, business: c.business, errors: c.rejected, shed: c.shed, timeouts: c.timeouts,
            p50Ms: l.percentileMs(50), p95Ms: l.percentileMs(95), p99Ms: l.percentileMs(99), maxMs: l.maxMs, meanMs: l.meanMs)
    }

    /// The tiers, with replicas' stations summed.
    func resourceStats(end: Int64, series: RunResult.Series) -> [RunResult.ResourceStats] {
        func peak(_ name: String) -> Double { Self.peak(series.utilisation[name] ?? []) }
        func combined(_ name: String, _ stations: [Station]) -> RunResult.ResourceStats {
            let busy = stations.reduce(0) { $0 + $1.busyArea }, capacity = stations.reduce(0) { $0 + $1.capacityArea }
            let waited = stations.reduce(0) { $0 + $1.waited }, waitSum = stations.reduce(0) { $0 + $1.waitSum }
            return RunResult.ResourceStats(
                name: name, servers: stations.reduce(0) { $0 + $1.capacity },
                utilisation: capacity > 0 ? busy / capacity : 0, peakUtilisation: peak(name),
                meanQueueLength: stations.reduce(0) { $0 + $1.queueArea } / Double(max(end, 1)),
                meanWaitMs: waited > 0 ? waitSum / Double(waited) / 1e6 : 0,
                rejected: stations.reduce(0) { $0 + $1.rejected }, timedOut: stations.reduce(0) { $0 + $1.timedOut })
        }
        return [
            combined("http.workers", replicas.map(\.http)),
            combined("http.cpu", replicas.map(\.cpu)),
            combined("redis.pool", replicas.map(\.pool)),
            RunResult.ResourceStats(
                name: "redis", servers: 1, utilisation: redis.utilisation(until: end), peakUtilisation: peak("redis"), meanQueueLength: redis.meanQueueLength(until: end),
                meanWaitMs: redis.meanWait() / 1e6, rejected: 0, timedOut: 0),
            combined("kafka.broker", [broker]),
            combined("mongo", [mongo]),
        ]
    }

    /// The highest 5-second moving average of a per-second series.
    static func peak(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let window = min(5, values.count)
        var sum = values[0..<window].reduce(0, +), best = sum
        for i in window..<values.count {
            sum += values[i] - values[i - window]
            best = max(best, sum)
        }
        return best / Double(window)
    }

    /// The tier busiest at the peak, and why it limits the sale.
    func bottleneck(_ resources: [RunResult.ResourceStats]) -> RunResult.Bottleneck {
        let candidates = resources.filter { $0.name != "http.workers" && $0.name != "redis.pool" }
        let top = candidates.max { ($0.peakUtilisation, $0.meanWaitMs) < ($1.peakUtilisation, $1.meanWaitMs) }!
        let pct = (top.peakUtilisation * 1000).rounded() / 10
        let wait = (top.meanWaitMs * 100).rounded() / 100
        let reason: String
        if top.peakUtilisation >= 0.8 {
            reason = "at the peak \(top.name) is busy \(pct)% of the time, with \((top.meanQueueLength * 10).rounded() / 10) requests queued on average over the run (mean wait \(wait) ms): it saturates first, so latency grows with its queue"
        } else if top.peakUtilisation >= 0.5 {
            reason = "\(top.name) is the busiest tier, \(pct)% at the peak (mean wait \(wait) ms); no tier is saturated yet, it will be the first to saturate as load grows"
        } else {
            reason = "no tier is saturated (the busiest, \(top.name), peaks at \(pct)%): latency is service and network time, not queueing"
        }
        return RunResult.Bottleneck(resource: top.name, utilisation: top.peakUtilisation, reason: reason)
    }

    func series(_ stats: RunStatistics, seconds: Int) -> RunResult.Series {
        func percentile(_ p: Double) -> [Double] {
            (0..<seconds).map { s in s < stats.perSecond.count ? stats.perSecond[s].percentileMs(p) : 0 }
        }
        func utilisation(_ stations: [Station]) -> [Double] {
            (0..<seconds).map { s in
                var busy = 0.0, capacity = 0.0
                for st in stations where s < st.seriesBusy.count { busy += st.seriesBusy[s]; capacity += st.seriesCapacity[s] }
                return capacity > 0 ? busy / capacity : 0
            }
        }
        return RunResult.Series(
            offeredRps: stats.offered.padded(to: seconds), achievedRps: stats.achieved.padded(to: seconds),
            errors: stats.errorSeries.padded(to: seconds), shed: stats.shedSeries.padded(to: seconds),
            timeouts: stats.timeoutSeries.padded(to: seconds),
            p50Ms: percentile(50), p95Ms: percentile(95), p99Ms: percentile(99),
            kafkaLag: stats.lagSeries.padded(to: seconds, gauge: true),
            available: stats.availableSeries.padded(to: seconds, gauge: true),
            reserved: stats.reservedSeries.padded(to: seconds, gauge: true),
            sold: stats.soldSeries.padded(to: seconds, gauge: true),
            readyReplicas: readySeries(stats, seconds: seconds),
            utilisation: [
                "http.cpu": utilisation(replicas.map(\.cpu)), "http.workers": utilisation(replicas.map(\.http)),
                "redis": (0..<seconds).map { $0 < redis.seriesBusy.count ? min(1, redis.seriesBusy[$0]) : 0 },
                "kafka.broker": utilisation([broker]), "mongo": utilisation([mongo]),
            ],
            p95Ms5s: LatencyRecorder.windows(stats.perSecond, seconds: seconds))
    }

    func readySeries(_ stats: RunStatistics, seconds: Int) -> [Double] {
        var series = stats.readySeries
        let initial = Double(scenario.autoscaling.map { max($0.minReplicas, min($0.maxReplicas, scenario.http.replicas)) } ?? scenario.http.replicas)
        if series.values.isEmpty { series.set(initial, at: 0) }
        var values = series.padded(to: seconds, gauge: true)
        // Seconds before the first change hold the initial count.
        if let first = stats.readySeries.values.firstIndex(where: { $0 != 0 }) {
            for i in 0..<first { values[i] = initial }
        }
        return values
    }
}
