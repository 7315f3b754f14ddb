public import Foundation

/// What one simulated run predicts. Encoded as JSON with sorted keys: the same scenario and
/// seed give the same bytes, except the top-level `timing` object (wall-clock figures).
public struct RunResult: Codable, Sendable, Hashable {
    public var scenario: String
    public var scenarioHash: String
    public var seed: UInt64
    public var codeVersion: String
    public var arrivalProcess: String
    public var simulatedSeconds: Double
    public var arrivalSeconds: Double
    public var throughput: Throughput
    public var overall: OperationStats
    public var operations: [OperationStats]
    public var rates: Rates
    public var orders: Orders
    public var resources: [ResourceStats]
    public var bottleneck: Bottleneck
    public var kafka: Kafka
    public var replicas: Replicas
    public var series: Series
    /// Around each of the scenario's faults (absent when it has none).
    public var faults: [FaultOutcome]?
    public var eventsProcessed: Int
    public var timing: Timing?
    /// The CPU the request path kept busy (absent unless the run knows it: a prediction of a
    /// machine, a load test that read the server's, k6's and Redis's CPU around its run).
    public var cores: Cores? = nil

    /// Cores busy on average over the arrival window (CPU seconds over its seconds): the request
    /// path (the server, the load generator, Redis, the kernel's interrupt work and the
    /// hypervisor's steal: what competes for the server's cores at normal priority, not the
    /// writer tier in the idle class), and of it the server's own.
    public struct Cores: Codable, Sendable, Hashable {
        public var requestPath: Double
        public var server: Double

        public init(requestPath: Double, server: Double) {
            self.requestPath = requestPath
            self.server = server
        }
    }

    public struct Throughput: Codable, Sendable, Hashable {
        public var iterations: Int
        public var requests: Int
        public var offeredRps: Double
        public var achievedRps: Double
        public var peakOfferedRps: Double

        public init(iterations: Int, requests: Int, offeredRps: Double, achievedRps: Double, peakOfferedRps: Double) {
            self.iterations = iterations
            self.requests = requests
            self.offeredRps = offeredRps
            self.achievedRps = achievedRps
            self.peakOfferedRps = peakOfferedRps
        }
    }

    public struct OperationStats: Codable, Sendable, Hashable {
        public var name: String
        public var requests: Int
        public var ok: Int
        /// Answered with a business outcome (sold out, over the limit, declined, expired).
        public var business: Int
        public var errors: Int
        public var shed: Int
        public var timeouts: Int
        public var p50Ms: Double
        public var p95Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
        public var meanMs: Double

        public init(name: String, requests: Int, ok: Int, business: Int, errors: Int, shed: Int, timeouts: Int, p50Ms: Double, p95Ms: Double, p99Ms: Double, maxMs: Double, meanMs: Double) {
            self.name = name
            self.requests = requests
            self.ok = ok
            self.business = business
            self.errors = errors
            self.shed = shed
            self.timeouts = timeouts
            self.p50Ms = p50Ms
            self.p95Ms = p95Ms
            self.p99Ms = p99Ms
            self.maxMs = maxMs
            self.meanMs = meanMs
        }
    }

    public struct Rates: Codable, Sendable, Hashable {
        public var errorRate: Double
        public var shedRate: Double
        public var timeoutRate: Double

        public init(errorRate: Double, shedRate: Double, timeoutRate: Double) {
            self.errorRate = errorRate
            self.shedRate = shedRate
            self.timeoutRate = timeoutRate
        }
    }

    public struct Orders: Codable, Sendable, Hashable {
        public var accepted: Int
        public var paid: Int
        public var cancelled: Int
        public var refunded: Int
        public var expired: Int
        public var declined: Int
        public var latePaymentsRefunded: Int
        public var duplicates: Int
        public var soldOutAnswers: Int
        public var limitAnswers: Int
        public var soldOutAtSeconds: Double?
        public var totalUnits: Int
        public var soldUnits: Int
        public var oversoldUnits: Int
        public var conservationHolds: Bool
        public var perUserLimitHolds: Bool
        public var unresolvedReservations: Int

        public init(accepted: Int, paid: Int, cancelled: Int, refunded: Int, expired: Int, declined: Int, latePaymentsRefunded: Int, duplicates: Int, soldOutAnswers: Int, limitAnswers: Int, soldOutAtSeconds: Double? = nil, totalUnits: Int, soldUnits: Int, oversoldUnits: Int, conservationHolds: Bool, perUserLimitHolds: Bool, unresolvedReservations: Int) {
            self.accepted = accepted
            self.paid = paid
            self.cancelled = cancelled
            self.refunded = refunded
            self.expired = expired
            self.declined = declined
            self.latePaymentsRefunded = latePaymentsRefunded
            self.duplicates = duplicates
            self.soldOutAnswers = soldOutAnswers
            self.limitAnswers = limitAnswers
            self.soldOutAtSeconds = soldOutAtSeconds
            self.totalUnits = totalUnits
            self.soldUnits = soldUnits
            self.oversoldUnits = oversoldUnits
            self.conservationHolds = conservationHolds
            self.perUserLimitHolds = perUserLimitHolds
            self.unresolvedReservations = unresolvedReservations
        }
    }

    public struct ResourceStats: Codable, Sendable, Hashable {
        public var name: String
        public var servers: Int
        /// Busy fraction over the whole run.
        public var utilisation: Double
        /// The highest busy fraction over any 5 seconds (the spike).
        public var peakUtilisation: Double
        public var meanQueueLength: Double
        public var meanWaitMs: Double
        public var rejected: Int
        public var timedOut: Int

        public init(name: String, servers: Int, utilisation: Double, peakUtilisation: Double, meanQueueLength: Double, meanWaitMs: Double, rejected: Int, timedOut: Int) {
            self.name = name
            self.servers = servers
            self.utilisation = utilisation
            self.peakUtilisation = peakUtilisation
            self.meanQueueLength = meanQueueLength
            self.meanWaitMs = meanWaitMs
            self.rejected = rejected
            self.timedOut = timedOut
        }
    }

    public struct Bottleneck: Codable, Sendable, Hashable {
        public var resource: String
        /// Its peak (5-second) utilisation.
        public var utilisation: Double
        public var reason: String

        public init(resource: String, utilisation: Double, reason: String) {
            self.resource = resource
            self.utilisation = utilisation
            self.reason = reason
        }
    }

    public struct Kafka: Codable, Sendable, Hashable {
        public var produced: Int
        public var consumed: Int
        public var maxLag: Int
        public var maxLagAtSeconds: Double
        /// From the last produce until the consumers had written everything.
        public var drainSeconds: Double
        /// From the last arrival until nothing waited in Kafka for the first time: how long the
        /// writer took to catch up with the load (nil: it never did, or a run stored before this
        /// was kept).
        public var caughtUpSeconds: Double?
        /// The messages written when the writer caught up (`caughtUpSeconds`): the load's backlog,
        /// without what came after (reservations expiring a TTL later). nil as `caughtUpSeconds`.
        public var caughtUpConsumed: Int?

        public init(
            produced: Int, consumed: Int, maxLag: Int, maxLagAtSeconds: Double, drainSeconds: Double, caughtUpSeconds: Double? = nil,
            caughtUpConsumed: Int? = nil
        ) {
            self.produced = produced
            self.consumed = consumed
            self.maxLag = maxLag
            self.maxLagAtSeconds = maxLagAtSeconds
            self.drainSeconds = drainSeconds
            self.caughtUpSeconds = caughtUpSeconds
            self.caughtUpConsumed = caughtUpConsumed
        }
    }

    /// What one fault did: the answers in its window (its start until a second after its end),
    /// the outbox and Kafka lag peaks from its start, and how long after its end both were back to
    /// their level of the 10 s before it.
    public struct FaultOutcome: Codable, Sendable, Hashable {
        public var component: String
        public var startSeconds: Double
        public var durationSeconds: Double
        public var answered: Int
        public var errors: Int
        public var outboxPeak: Int
        public var kafkaLagPeak: Int
        /// Nil when the run ended first.
        public var drainedAfterSeconds: Double?

        public init(
            component: String, startSeconds: Double, durationSeconds: Double, answered: Int, errors: Int, outboxPeak: Int, kafkaLagPeak: Int,
            drainedAfterSeconds: Double?
        ) {
            self.component = component
            self.startSeconds = startSeconds
            self.durationSeconds = durationSeconds
            self.answered = answered
            self.errors = errors
            self.outboxPeak = outboxPeak
            self.kafkaLagPeak = kafkaLagPeak
            self.drainedAfterSeconds = drainedAfterSeconds
        }
    }

    public struct Replicas: Codable, Sendable, Hashable {
        public var initial: Int
        public var max: Int
        public var final: Int
        public var firstScaleUpAtSeconds: Double?

        public init(initial: Int, max: Int, final: Int, firstScaleUpAtSeconds: Double? = nil) {
            self.initial = initial
            self.max = max
            self.final = final
            self.firstScaleUpAtSeconds = firstScaleUpAtSeconds
        }
    }

    /// One value per second of virtual time.
    public struct Series: Codable, Sendable, Hashable {
        public var offeredRps: [Double]
        public var achievedRps: [Double]
        public var errors: [Double]
        public var shed: [Double]
        public var timeouts: [Double]
        public var p50Ms: [Double]
        public var p95Ms: [Double]
        public var p99Ms: [Double]
        public var kafkaLag: [Double]
        public var available: [Double]
        public var reserved: [Double]
        public var sold: [Double]
        public var readyReplicas: [Double]
        public var utilisation: [String: [Double]]
        /// P95 over each 5-second window (the validation compares these windows).
        public var p95Ms5s: [Double]?

        public init(offeredRps: [Double], achievedRps: [Double], errors: [Double], shed: [Double], timeouts: [Double], p50Ms: [Double], p95Ms: [Double], p99Ms: [Double], kafkaLag: [Double], available: [Double], reserved: [Double], sold: [Double], readyReplicas: [Double], utilisation: [String: [Double]], p95Ms5s: [Double]? = nil) {
            self.offeredRps = offeredRps
            self.achievedRps = achievedRps
            self.errors = errors
            self.shed = shed
            self.timeouts = timeouts
            self.p50Ms = p50Ms
            self.p95Ms = p95Ms
            self.p99Ms = p99Ms
            self.kafkaLag = kafkaLag
            self.available = available
            self.reserved = reserved
            self.sold = sold
            self.readyReplicas = readyReplicas
            self.utilisation = utilisation
            self.p95Ms5s = p95Ms5s
        }
    }

    public struct Timing: Codable, Sendable, Hashable {
        public var wallSeconds: Double
        public var eventsPerSecond: Double

        public init(wallSeconds: Double, eventsPerSecond: Double) {
            self.wallSeconds = wallSeconds
            self.eventsPerSecond = eventsPerSecond
        }
    }

    /// Deterministic JSON (sorted keys).
    public func json(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return try encoder.encode(self)
    }

    public init(scenario: String, scenarioHash: String, seed: UInt64, codeVersion: String, arrivalProcess: String, simulatedSeconds: Double, arrivalSeconds: Double, throughput: Throughput, overall: OperationStats, operations: [OperationStats], rates: Rates, orders: Orders, resources: [ResourceStats], bottleneck: Bottleneck, kafka: Kafka, replicas: Replicas, series: Series, faults: [FaultOutcome]? = nil, eventsProcessed: Int, timing: Timing? = nil, cores: Cores? = nil) {
        self.scenario = scenario
        self.scenarioHash = scenarioHash
        self.seed = seed
        self.codeVersion = codeVersion
        self.arrivalProcess = arrivalProcess
        self.simulatedSeconds = simulatedSeconds
        self.arrivalSeconds = arrivalSeconds
        self.throughput = throughput
        self.overall = overall
        self.operations = operations
        self.rates = rates
        self.orders = orders
        self.resources = resources
        self.bottleneck = bottleneck
        self.kafka = kafka
        self.replicas = replicas
        self.series = series
        self.faults = faults
        self.eventsProcessed = eventsProcessed
        self.timing = timing
        self.cores = cores
    }
}


