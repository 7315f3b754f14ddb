extension FlashSaleModel {
    /// For every station: its integrated queue length and the total wait of the jobs that queued.
    /// Little's law says they are equal once the run has drained.
    public func littleChecks() -> [(name: String, queueArea: Double, waits: Double)] {
        var stations = [broker, mongo]
        for r in replicas { stations += [r.http, r.cpu, r.pool] }
        let redisQueue = redis.seriesQueue.reduce(0, +) * 1e9  // integrated per second, independently of waitSum
        return stations.map { ($0.name, $0.queueArea, $0.waitSum + $0.timedOutWaitSum) } + [(redis.name, redisQueue, redis.waitSum)]
    }
}
