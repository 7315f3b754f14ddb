public import Domain
public import Logging
public import LiveAPI
public import LiveKafka
public import LiveMongo
public import LiveRedis

extension ShopServer {
    /// Every setting of `flashdeal serve`, one tree with its defaults. Filled from an optional JSON
    /// file, then the environment (`FLASHDEAL_…`), then flags, each overriding the one before
    /// (``ConfigurationSources``); `docs/configuration.md` lists every key. Times are `Duration`s.
    public struct Configuration: Sendable {
        public var server = Server()
        public var api = API()
        public var auth = Auth()
        public var admission = Admission()
        public var limits = Limits()
        public var redis = Redis()
        public var kafka = Kafka()
        public var mongo = Mongo()
        public var outbox = Outbox()
        public var writer = Writer()
        public var cache = Cache()
        public var payment = Payment()
        public var pools = Pools()
        public var log = Log()
        public var metrics = Metrics()

        /// What `/metrics` records.
        public struct Metrics: Sendable {
            /// Whether requests, operations, outcomes, cache lookups and event-loop lag are
            /// recorded (off only to measure their cost: the alerts and dashboards read them).
            public var enabled = true
        }

        public init() {}

        /// What the process logs and how (standard error, one entry a line).
        public struct Log: Sendable {
            /// The least severe level written.
            public var level: Logger.Level = .info
            /// `json` (one object a line: time, level, logger, message, the request id, trace and
            /// span ids, the metadata) or `text` (swift-log's line, for a person at a terminal).
            public var format: LogFormat = .json
            /// Whether every HTTP request gets an access-log line (at `info`). Off by default: at a
            /// sale's rates a line per request is a real share of the API's CPU (measured in
            /// `docs/observability.md`), and the load balancer in front logs every request anyway.
            public var access = false
        }

        public enum LogFormat: String, Sendable, CaseIterable {
            case json, text
        }

        /// The process: where it listens, what it runs, how it stops.
        public struct Server: Sendable {
            public var host = "127.0.0.1"
            public var port = 8080
            /// What this process runs: everything (the default), the API alone (the request path:
            /// HTTP, GraphQL, the subscriptions' broadcast listener), or the writer alone (the outbox
            /// relay to Kafka, the Kafka → MongoDB consumer, the reservation sweeper, the deal
            /// scheduler and the payment reconciler), so background work can be deployed, scaled
            /// and prioritised apart from the request path. A deployment of `api` replicas needs at
            /// least one `writer` (or an `all`): nothing else relays the outbox.
            public var role: Role = .all
            /// How long the server may take to drain and stop after SIGTERM or SIGINT; what is
            /// still running then is cancelled (under Kubernetes' default 30 s grace period).
            public var shutdownTimeout: Duration = .seconds(25)
            /// Whether Swift concurrency runs on NIO's event loops (``ShopServer/runConcurrencyOnEventLoops()``).
            public var eventLoopExecutor = true
        }

        /// The GraphQL API's own limits.
        public struct API: Sendable {
            /// The folder holding the storefront's and the console's files (nil: the one beside the binary).
            public var webRoot: String?
            /// A results store whose simulations the operator console shows beside the live numbers.
            public var predictions: String?
            /// The `Origin`s a browser's WebSocket may come from besides the server's own.
            public var allowedOrigins: Set<String> = []
            /// How long public queries' answers are served from this replica's memory (`.zero`: never).
            public var responseCacheTTL: Duration = .milliseconds(250)
            /// Largest request body accepted; larger is 413.
            public var maxBodyBytes = 64 * 1024
            /// Deepest selection nesting a query may have; deeper is refused before execution.
            public var maxQueryDepth = 12
            /// Most aliased fields a document may have.
            public var maxAliases = 15
            /// Highest estimated cost an operation may have: each field 1, what a field with
            /// `first: n` selects n times (a page of 100 deals with every field and its product costs about 1,600).
            public var maxCost = 2000
            /// Whether `__schema` and `__type` are answered: `auto` answers them in the embedded
            /// mode (the demo, where tools explore the schema) and not on the backends.
            public var introspection: Introspection = .auto
            /// WebSockets a signed-in buyer may hold open on one replica, anonymous ones one client
            /// address may, and operations one socket may run at once.
            public var maxSocketsPerBuyer = 8
            public var maxAnonymousSocketsPerAddress = 64
            public var maxOperationsPerSocket = 16
        }

        public enum Introspection: String, Sendable, CaseIterable {
            case auto, on, off
        }

        /// Who a caller is (``Authenticator``).
        public struct Auth: Sendable {
            /// `jwt`: bearer tokens; `trusted-header`: a gateway in front authenticates and names
            /// the caller in `trustedHeader` (only behind such a gateway).
            public var mode: AuthMode = .jwt
            /// The HS256 secret tokens are signed with. Unset with no `jwks` either: the embedded
            /// mode uses ``Authenticator/developmentSecret`` (what `flashdeal token` signs with);
            /// on the backends nobody is authenticated.
            public var secret: String?
            /// The secret waiting rooms sign admission tickets with (every replica must share it);
            /// unset: `secret`'s, or the development secret in the embedded mode.
            public var ticketSecret: String?
            /// A JWKS (a file's path, or an http(s) URL read at start-up) whose keys verify RS256,
            /// ES256 and the other algorithms it names.
            public var jwks: String?
            /// The `aud` tokens must name, and the `iss` they must come from (unset: not checked).
            public var audience: String?
            public var issuer: String?
            /// In `trusted-header` mode: the header, and the users who are admins.
            public var trustedHeader = Identity.trustedHeader
            public var trustedAdmins: Set<UserID> = []
        }

        public enum AuthMode: String, Sendable, CaseIterable {
            case jwt
            case trustedHeader = "trusted-header"
        }

        /// Load shedding on `/graphql` (``AdmissionGate``).
        public struct Admission: Sendable {
            /// Requests run at once; 0 turns shedding off.
            public var workers = 256
            /// Requests that may wait for a worker; more are answered 503.
            public var queue = 2048
            /// A request that waited longer for a worker is answered 503.
            public var queueTimeout: Duration = .seconds(2)

            /// The gate's limits, nil when shedding is off.
            public var limits: AdmissionGate.Limits? {
                workers > 0 ? AdmissionGate.Limits(workers: workers, queue: queue, timeout: queueTimeout) : nil
            }
        }

        /// Token buckets shared by every replica (Redis; in memory in the embedded mode): each
        /// buyer's for the business mutations (answered `RateLimited`), each client address's for
        /// every request (answered 429). A rate of 0 is no limit.
        public struct Limits: Sendable {
            public var buyerRate = 5.0
            public var buyerBurst = 10.0
            public var addressRate = 50.0
            public var addressBurst = 100.0
            /// The header a load balancer in front names the client's address in (`X-Forwarded-For`;
            /// its last entry counts); unset: the connection's peer.
            public var clientAddressHeader: String?
        }

        /// Redis: stock gate, hot orders and payments, idempotency, outbox, cache.
        public struct Redis: Sendable {
            /// `redis://[:password@]host:port` (nil: the embedded mode, with Kafka and MongoDB unset too).
            public var url: String?
            /// The durability Redis must have, checked at start-up.
            public var durability: RedisDurability = .any
            /// Replicas that must acknowledge each write before it is answered (WAIT); 0 for none.
            public var replicas = 0
            /// How long a write waits for those replicas before the request fails.
            public var replicaTimeout: Duration = .milliseconds(200)
            /// Connections in the request path's pool.
            public var connections = 4
            public var connectTimeout: Duration = .seconds(2)
            /// Namespaces every key (`<prefix>:…`).
            public var keyPrefix = "fd"

            public var replicaWait: RedisPool.ReplicaWait? { replicas > 0 ? .init(replicas: replicas, timeout: replicaTimeout) : nil }
        }

        /// Kafka: the event stream between the outbox relay and the writer.
        public struct Kafka: Sendable {
            /// `host:port,...`.
            public var brokers: String?
            /// Namespaces topics (`<prefix>.orders`, …) and the writers' consumer group (`<prefix>-writers`).
            public var topicPrefix = "flashdeal"
            public var producer = Producer()
            public var consumer = Consumer()

            public struct Producer: Sendable {
                /// How long the producer gathers a batch (`linger.ms`).
                public var linger: Duration = .milliseconds(5)
                /// How long a message may wait for delivery before it fails (`message.timeout.ms`).
                public var messageTimeout: Duration = .seconds(10)
            }

            public struct Consumer: Sendable {
                /// `session.timeout.ms`: how soon the group notices a writer gone.
                public var sessionTimeout: Duration = .seconds(6)
                /// `heartbeat.interval.ms`.
                public var heartbeatInterval: Duration = .milliseconds(500)
                /// `topic.metadata.refresh.interval.ms`: how soon a new topic is noticed.
                public var metadataRefresh: Duration = .seconds(2)

                var settings: KafkaConsumer.Settings {
                    KafkaConsumer.Settings(sessionTimeout: sessionTimeout, heartbeatInterval: heartbeatInterval, metadataRefresh: metadataRefresh)
                }
            }
        }

        /// MongoDB: catalogue, durable orders and payments, event store.
        public struct Mongo: Sendable {
            /// `mongodb://[user:password@]host:port[,host:port…]/database[?options]`.
            public var uri: String?
            /// What requests wait on (catalogue and order reads, readiness): a MongoDB that is down
            /// or hung fails the read within these bounds. The writer keeps libmongoc's own (its
            /// batches may wait on a busy database, and are retried). Options in the URI win.
            public var requestTimeouts = MongoClient.Timeouts.requestPath
        }

        /// The outbox in Redis and its relay to Kafka.
        public struct Outbox: Sendable {
            /// Entries waiting for Kafka from which new orders are refused; 0 for no cap.
            public var cap = 500_000
            /// Entries the relay reads and sends at once.
            public var batchSize = 256
            /// How long the relay waits when the outbox is empty.
            public var idle: Duration = .milliseconds(20)
            /// The relay's first back-off after a failed send, doubling up to `maximumRetry`.
            public var retry: Duration = .milliseconds(500)
            public var maximumRetry: Duration = .seconds(30)
            /// How long an entry another relay read may stay unacknowledged before this one claims it.
            public var claimAfter: Duration = .seconds(30)
        }

        /// The writer: the Kafka → MongoDB consumer and the background Services.
        public struct Writer: Sendable {
            /// Messages read and written per batch.
            public var batchSize = 500
            /// How long one poll waits for messages.
            public var pollTimeout: Duration = .milliseconds(200)
            /// How often lapsed reservations are swept and scheduled deals started and ended.
            public var sweepInterval: Duration = .seconds(1)
            /// How often payments cut short are looked for, and how old they must be.
            public var reconcileInterval: Duration = .seconds(5)
            public var reconcileAfter: Duration = .seconds(30)
        }

        /// The catalogue's two cache levels (``CachedDealCatalog``).
        public struct Cache: Sendable {
            /// How long Redis keeps a product's or deal's copy.
            public var catalogTTL: Duration = .seconds(300)
            /// How long this process keeps what it decoded.
            public var localTTL: Duration = .seconds(1)
            /// How long past its expiry a value may still be served while one request refreshes it
            /// (or while the refresh fails).
            public var staleLimit: Duration = .seconds(30)
        }

        /// The simulated payment provider, the one provider this shop has.
        public struct Payment: Sendable {
            /// How long each charge and refund takes.
            public var latency: Duration = .zero
            /// The share of charges declined, 0...1.
            public var declineRate = 0.0
        }

        /// The bounded thread pools blocking C calls run on (``BlockingCalls``).
        public struct Pools: Sendable {
            /// MongoDB operations that may wait at once.
            public var mongoThreads = 16
            /// Kafka polls, commits, metadata requests and flushes at once.
            public var kafkaThreads = 4
        }

        /// Whether any backend is given (then all three must be).
        public var usesBackends: Bool { redis.url != nil || kafka.brokers != nil || mongo.uri != nil }

        /// The backends when any is given (then all three must be), else the embedded mode.
        public var mode: Mode { usesBackends ? .backends : .embedded }

        /// The router's part.
        var router: ShopRouter.Configuration {
            ShopRouter.Configuration(
                maxBodyBytes: api.maxBodyBytes, maxQueryDepth: api.maxQueryDepth, maxAliases: api.maxAliases, maxCost: api.maxCost,
                introspection: api.introspection == .on || (api.introspection == .auto && mode == .embedded), allowedOrigins: api.allowedOrigins,
                admission: admission.limits, responseCacheTTL: api.responseCacheTTL,
                buyerLimit: .init(rate: limits.buyerRate, burst: limits.buyerBurst), addressLimit: .init(rate: limits.addressRate, burst: limits.addressBurst),
                clientAddressHeader: limits.clientAddressHeader, maxSocketsPerBuyer: api.maxSocketsPerBuyer,
                maxAnonymousSocketsPerAddress: api.maxAnonymousSocketsPerAddress, maxOperationsPerSocket: api.maxOperationsPerSocket,
                accessLog: log.access, demoSignIn: mode == .embedded && auth.mode != .trustedHeader && auth.secret == nil && auth.jwks == nil)
        }
    }

    public enum Role: String, Sendable, CaseIterable {
        case all, api, writer
    }
}
