/// A flash sale to simulate: traffic, the service's tiers and the deals on sale. Read from JSON
/// (`docs/scenario.md` documents every key); all durations inside are nanoseconds.
public struct Scenario: Sendable, Hashable {
    public var name: String
    public var description: String
    public var seed: UInt64
    /// Virtual time after which nothing more happens, even if work is left (nanoseconds).
    public var horizon: Int64
    public var traffic: Traffic
    public var deals: [DealSpec]
    public var http: HTTPTier
    public var network: Network
    public var redis: RedisTier
    public var kafka: KafkaTier
    public var mongo: MongoTier
    public var payment: PaymentProvider
    public var autoscaling: Autoscaling?
    public var sweeperInterval: Int64
    /// Backends made unavailable for an interval (the chaos drills' faults).
    public var faults: [Fault] = []
    /// The canonical JSON the scenario was read from (for the results store and its hash).
    public var canonicalJSON: String

    public enum ArrivalProcess: String, Sendable, Hashable {
        /// Exponential gaps (an open Poisson stream following the stages' rate).
        case poisson
        /// Evenly spaced starts, as k6's arrival-rate executors produce them.
        case evenlySpaced
    }

    public struct Stage: Sendable, Hashable {
        public var duration: Int64
        /// Iterations (user journeys) per second at the end of the stage; the rate ramps linearly to it.
        public var target: Double

        public init(duration: Int64, target: Double) {
            self.duration = duration
            self.target = target
        }
    }

    public struct Traffic: Sendable, Hashable {
        public var process: ArrivalProcess
        public var startRate: Double
        public var stages: [Stage]
        public var users: Int
        public var journey: Journey
        public var client: Client

        /// The arrival period: the stages' total duration.
        public var duration: Int64 { stages.reduce(0) { $0 + $1.duration } }
    }

    /// What one arrival (a k6 iteration: one user's visit) does.
    public struct Journey: Sendable, Hashable {
        public var browseProbability: Double
        public var viewProbability: Double
        public var orderProbability: Double
        public var quantity: Int
        public var payProbability: Double
        public var cancelProbability: Double
        public var polls: Int
        public var thinkTime: Distribution
    }

    public struct Client: Sendable, Hashable {
        /// The client gives up after this long (nanoseconds).
        public var timeout: Int64
        public var maxRetries: Int
        public var retryProbability: Double
        public var retryBackoff: Distribution
    }

    public struct DealSpec: Sendable, Hashable {
        public var id: String
        public var stock: Int
        public var perUserLimit: Int
        public var price: Int64
        public var startsAt: Int64
        public var endsAt: Int64
        public var reservationTTL: Int64
        public var paymentWindow: Int64
        /// Share of journeys that target this deal.
        public var weight: Double
        /// Unpaid reservations a buyer may open over the sale (0: no cap; `DealTerms.reservationCap`).
        public var reservationCap: Int = 0
        /// Nanoseconds a buyer who cancelled waits to reserve again (0: none; `DealTerms.cancelCoolDown`).
        public var cancelCoolDown: Int64 = 0
    }

    public enum Operation: Int, Sendable, Hashable, CaseIterable {
        case listDeals, viewDeal, placeOrder, payOrder, cancelOrder, orderStatus

        public var name: String {
            switch self {
            case .listDeals: "listDeals"
            case .viewDeal: "viewDeal"
            case .placeOrder: "placeOrder"
            case .payOrder: "payOrder"
            case .cancelOrder: "cancelOrder"
            case .orderStatus: "orderStatus"
            }
        }
    }

    public enum Admission: Sendable, Hashable {
        case none
        /// A token bucket across the service: `rate` per second, `burst` tokens.
        case rateLimit(rate: Double, burst: Double)
        /// At most `limit` requests in flight per replica.
        case concurrencyLimit(Int)
    }

    public struct HTTPTier: Sendable, Hashable {
        public var replicas: Int
        public var concurrencyPerReplica: Int
        public var coresPerReplica: Int
        public var acceptQueue: Int
        /// A request that waited longer than this for a worker is answered 503 (nanoseconds).
        public var requestTimeout: Int64
        /// CPU time per request, by operation.
        public var cpu: [Distribution]
        public var admission: Admission
        public var shedLatency: Distribution
        /// How a replica's cores are shared (nil: as dedicated FIFO servers, one request per core).
        public var machine: Machine? = nil
    }

    /// A replica's cores as the operating system shares them: time-sliced between its runnable
    /// requests (processor sharing) and `background` other runnable processes on the same cores
    /// (the load generator, Redis, the writer, on a shared box), under an optional CPU quota per
    /// period (a Kubernetes CPU limit: CFS bandwidth throttling), each request's CPU work starting
    /// after a scheduler wake-up delay. `demand` is the CPU other processes on the same cores spend
    /// per request, by operation (the load generator sending it and reading its answer, Redis
    /// serving its commands, the kernel's interrupts: `flashdeal calibrate` measures them): work
    /// on the same cores; the share `demandOnPath` of it the request waits on too, so it joins the
    /// request's own CPU job (the request is answered when all of it is done), and the rest
    /// competes for the cores as a job of its own. `cpuByRate` scales both by the
    /// tier's request rate over the last second: on a virtual machine the CPU a request costs falls
    /// as the load rises (more events are handled per wake-up of a thread and of a virtual CPU), and
    /// `flashdeal calibrate` measures by how much.
    public struct Machine: Sendable, Hashable {
        public var background: Double
        public var quota: ProcessorSharing.Quota?
        public var wakeUp: Distribution
        /// By operation (`Operation.rawValue`); empty: none.
        public var demand: [Distribution]
        /// The share of the demand on the request's path (1: all of it, 0: none: it only competes).
        public var demandOnPath: Double = 1
        /// Multipliers of the server's CPU and of the demand, by requests a second, ascending;
        /// linear between points, the end points' beyond them. Empty: 1.
        public var cpuByRate: [RatePoint]
        /// The writer tier on the same cores at idle priority (nil: it has cores of its own).
        public var writer: WriterTier? = nil
        /// The server's event-loop threads (0: none, each request's CPU is one job of its own on
        /// the time-shared cores). With `n` loops a request's CPU comes in segments, one when it
        /// arrives and one after each round trip it makes (Redis, MongoDB, the provider), the
        /// work split evenly and the rest in the answer's: each segment joins one loop in turn
        /// (round robin, as NIO's `next()` hands out work) and waits there behind the segments
        /// before it, first come first served; a loop is one job on the cores, and a loop that
        /// was idle starts after the scheduler's wake-up delay (its thread slept in epoll).
        public var eventLoops: Int = 0
        /// The threads the other processes' CPU beside the requests runs on (0: the work beside
        /// each request is a job of its own on the cores). With `n` threads that work (the
        /// demand off the request's path and the overhead `cpuByRate` adds) goes to them in turn,
        /// each running one piece at a time as one job on the cores: the load generator and Redis
        /// are a few threads, not one per request in flight, so they take a few shares of the
        /// cores however many requests are in flight.
        public var otherThreads: Int = 0

        public init(
            background: Double = 0, quota: ProcessorSharing.Quota? = nil, wakeUp: Distribution = .constant(0), demand: [Distribution] = [],
            cpuByRate: [RatePoint] = []
        ) {
            self.background = background
            self.quota = quota
            self.wakeUp = wakeUp
            self.demand = demand
            self.cpuByRate = cpuByRate
        }

        /// The asynchronous tier (the outbox relay, the broker, the writer's consumer and MongoDB)
        /// as CPU work on the first replica's cores in the idle scheduling class, as `make
        /// bench-live` and `make validate` run it: each consumer batch is a job of
        /// `cpuPerMessage` × its messages that takes only the cores the request path leaves, at
        /// most `cores` of them at once (the tier's processes work as a pipeline). The batch's
        /// MongoDB write is part of that work, not a stage of its own.
        public struct WriterTier: Sendable, Hashable {
            public var cpuPerMessage: Distribution
            public var cores: Double

            public init(cpuPerMessage: Distribution, cores: Double) {
                self.cpuPerMessage = cpuPerMessage
                self.cores = cores
            }
        }

        public struct RatePoint: Sendable, Hashable {
            public var rate: Double
            public var server: Double
            public var others: Double

            public init(rate: Double, server: Double, others: Double) {
                self.rate = rate
                self.server = server
                self.others = others
            }
        }

        /// The smallest multipliers measured (1 with none).
        public var leastMultipliers: (server: Double, others: Double) {
            (cpuByRate.map(\.server).min() ?? 1, cpuByRate.map(\.others).min() ?? 1)
        }

        /// The server's and the others' multipliers at `rate` requests a second.
        public func multipliers(at rate: Double) -> (server: Double, others: Double) {
            guard let first = cpuByRate.first, let last = cpuByRate.last else { return (1, 1) }
            if rate <= first.rate { return (first.server, first.others) }
            if rate >= last.rate { return (last.server, last.others) }
            let upper = cpuByRate.firstIndex { $0.rate >= rate }!
            let (a, b) = (cpuByRate[upper - 1], cpuByRate[upper])
            let t = b.rate > a.rate ? (rate - a.rate) / (b.rate - a.rate) : 0
            return (a.server + t * (b.server - a.server), a.others + t * (b.others - a.others))
        }
    }

    public struct Network: Sendable, Hashable {
        /// Client-to-service round trip.
        public var clientRTT: Distribution
        /// Service-to-backend round trip (Redis, Kafka, MongoDB).
        public var backendRTT: Distribution
    }

    public struct RedisTier: Sendable, Hashable {
        public var gateService: Distribution
        public var readService: Distribution
        public var poolSizePerReplica: Int
        /// Commands sent in one round trip for multi-key reads.
        public var pipeline: Int
        public var cacheHitRatio: Double
    }

    public struct KafkaTier: Sendable, Hashable {
        public var partitions: Int
        public var linger: Int64
        public var batchSize: Int
        public var brokerThreads: Int
        public var batchService: Distribution
        public var perMessageService: Double
        public var consumers: Int
        public var maxPollRecords: Int
        public var pollInterval: Int64
        /// Messages per second one consumer can process (CPU), before the MongoDB write.
        public var consumerRate: Double
        /// Whether a request waits for the broker's acknowledgement (a synchronous produce), or is
        /// answered after one Redis round trip that writes the outbox, the relay producing later
        /// (the live server's design, the default).
        public var requestWaitsForAck: Bool = false
    }

    /// MongoDB: reads on a cache miss, and the consumers' writes (one `insert_many` per batch,
    /// `batchBase + perDocument × documents`).
    public struct MongoTier: Sendable, Hashable {
        public var read: Distribution
        public var batchBase: Distribution
        public var perDocument: Double
        public var poolSize: Int
    }

    public struct PaymentProvider: Sendable, Hashable {
        public var latency: Distribution
        public var declineRate: Double
    }

    public struct ScalePolicy: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable { case pods, percent }
        public var kind: Kind
        public var value: Int
        public var period: Int64

        public init(kind: Kind, value: Int, period: Int64) {
            self.kind = kind
            self.value = value
            self.period = period
        }
    }

    /// One component unavailable from `start` for `duration` (nanoseconds of virtual time), as
    /// `make chaos` breaks it. What each component's absence does is `FlashSaleModel`'s to model
    /// (`docs/scenario.md` lists it).
    public struct Fault: Sendable, Hashable {
        public enum Component: String, Sendable, Hashable, CaseIterable {
            /// The API processes: new connections are refused, requests in flight are lost.
            case api
            /// Redis: every command fails (the connection is refused) until it is back.
            case redis
            /// The Kafka broker: nothing is appended or fetched; batches wait for it.
            case broker
            /// The writer process: its outbox relay and its consumers stop.
            case writer
            /// The writer's consumers alone (a restarted writer's relay runs at once; its consumer
            /// waits to be assigned partitions).
            case consumer
            /// MongoDB: reads and the consumers' writes wait for it.
            case mongo
        }

        public var component: Component
        public var start: Int64
        public var duration: Int64
        public var end: Int64 { start + duration }

        public init(component: Component, start: Int64, duration: Int64) {
            self.component = component
            self.start = start
            self.duration = duration
        }
    }

    /// A Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation and, optionally,
    /// the requests each pod holds (a Pods metric: running plus waiting, averaged since the last
    /// sync), with its behaviour; and a scheduled pre-scaling, a higher `minReplicas` from a time
    /// before the sale (what `flashdeal plan-scaling` recommends).
    public struct Autoscaling: Sendable, Hashable {
        public var minReplicas: Int
        public var maxReplicas: Int
        public var targetUtilization: Double
        /// The average requests in flight per pod the HPA aims at; nil: CPU only.
        public var inFlightTarget: Double?
        public var tolerance: Double
        public var syncPeriod: Int64
        public var scaleUpStabilization: Int64
        public var scaleDownStabilization: Int64
        public var scaleUpPolicies: [ScalePolicy]
        /// Kubernetes' default: 100% of the pods in 15 s (no limit in practice).
        public var scaleDownPolicies: [ScalePolicy]
        public var podStartup: Int64
        public var preScale: PreScale?

        /// From `at` on, at least `minReplicas` (a CronJob or KEDA's cron scaler raising the
        /// HPA's floor before a scheduled start).
        public struct PreScale: Sendable, Hashable {
            public var at: Int64
            public var minReplicas: Int

            public init(at: Int64, minReplicas: Int) {
                self.at = at
                self.minReplicas = minReplicas
            }
        }

        /// The floor at `now`.
        public func floor(at now: Int64) -> Int {
            guard let preScale, now >= preScale.at else { return minReplicas }
            return max(minReplicas, min(maxReplicas, preScale.minReplicas))
        }
    }
}
