import Domain

/// Everything a run counts while it runs; `RunResult` is made from it at the end.
public struct RunStatistics {
    public struct OperationCounts {
        public var sent = 0, ok = 0, business = 0, rejected = 0, shed = 0, timeouts = 0, late = 0
    }

    var ops = Array(repeating: OperationCounts(), count: Scenario.Operation.allCases.count)
    var latency = Scenario.Operation.allCases.map { _ in LatencyRecorder() }
    var overallLatency = LatencyRecorder()
    var perSecond: [LatencyRecorder] = []

    var offered = SecondSeries(), achieved = SecondSeries(), errorSeries = SecondSeries(), shedSeries = SecondSeries()
    var timeoutSeries = SecondSeries(), lagSeries = SecondSeries(), availableSeries = SecondSeries()
    var reservedSeries = SecondSeries(), soldSeries = SecondSeries(), desiredSeries = SecondSeries()
    var readySeries = SecondSeries(), hpaUtilisation = SecondSeries()

    var iterations = 0, abandoned = 0, retries = 0, gaveUp = 0
    var accepted = 0, duplicates = 0, soldOutAnswers = 0, limitAnswers = 0, invalidAnswers = 0
    var paid = 0, latePaymentsRefunded = 0, cancelled = 0, refunded = 0, expired = 0, declined = 0, paymentsRefused = 0
    var soldUnits: [Int], totalUnits: [Int], soldOutAt: [Int64?]
    var stockViolations = 0
    var produced = 0, committed = 0, lastProduceAt: Int64 = 0, drainedAt: Int64 = 0, maxLag = 0, maxLagAt: Int64 = 0
    /// The first time nothing waited in Kafka after the last arrival (the writer caught up with the load).
    var caughtUpAt: Int64?
    /// Messages committed when the writer first caught up after the arrivals.
    var caughtUpCommitted: Int?
    var firstScaleUpAt: Int64?
    var maxReplicas = 0
    var hitHorizon = false
    var lastAnswerAt: Int64 = 0
    /// CPU the server's own work took on a machine's shared cores (nanoseconds).
    var serverCPU: Double = 0

    /// What happened around each of the scenario's faults.
    var faults: [FaultWatch]

    struct FaultWatch {
        /// The highest outbox depth and Kafka lag in the 10 s before the fault: the level it must
        /// drain back to.
        var baselineOutbox = 0, baselineLag = 0
        /// From the fault's start until it drained.
        var outboxPeak = 0, lagPeak = 0
        var drainedAt: Int64?
        /// Answers the clients received from the fault's start until a second after its end.
        var answered = 0, errors = 0
    }

    init(deals: Int, faults: Int = 0) {
        self.faults = Array(repeating: FaultWatch(), count: faults)
        soldUnits = Array(repeating: 0, count: deals)
        totalUnits = Array(repeating: 0, count: deals)
        soldOutAt = Array(repeating: nil, count: deals)
    }

    /// Per-second latency percentiles (two significant digits, up to a minute).
    mutating func recordSecond(_ latency: Int64, at time: Int64) {
        let second = Int(time / 1_000_000_000)
        while perSecond.count <= second { perSecond.append(LatencyRecorder(highestMicroseconds: 60_000_000, precise: false)) }
        perSecond[second].record(latency)
    }

    /// The cheap stock checks made after every gate change: conservation and nothing negative,
    /// and never more sold than ever put on the shelf (counted from the events, independently).
    mutating func checkStock(_ gates: [StockGate]) {
        for (d, gate) in gates.enumerated() {
            let i = gate.inventory
            if i.available + i.reserved + i.sold != i.total || i.available < 0 || i.reserved < 0 || i.sold < 0
                || soldUnits[d] > totalUnits[d] || i.sold != soldUnits[d]
            {
                stockViolations += 1
            }
        }
    }
}
