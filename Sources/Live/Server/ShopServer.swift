public import Domain
import DomainMemory
import Hummingbird
import HummingbirdWebSocket
public import LiveAPI
public import LiveRedis
public import Logging
import ServiceLifecycle

/// `flashdeal serve`: the shop on the in-memory adapters (no backend given: the embedded default,
/// seeded with a demo catalogue) or on Redis, Kafka and MongoDB together, with every long-lived
/// part a Service in one ServiceGroup.
public enum ShopServer {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// `redis://host:port`: stock gate, order hot store, cache, idempotency, outbox.
        public var redisURL: String?
        /// `host:port,...`: the event stream.
        public var kafkaBrokers: String?
        /// `mongodb://host:port/db`: catalogue, payments, the durable orders and the event store.
        public var mongoURI: String?
        /// The durability the Redis must have (checked at start-up).
        public var redisDurability: RedisDurability = .any
        /// Replicas that must acknowledge each write before it is answered (nil: none).
        public var redisReplicaWait: RedisPool.ReplicaWait?
        /// Outbox entries waiting from which new orders are refused (nil: no bound).
        public var outboxCap: Int? = OutboxBackpressure.Limits().cap
        /// Namespaces Redis keys, Kafka topics (`<topicPrefix>.orders`) and the consumer group.
        public var keyPrefix = "fd"
        public var topicPrefix = "flashdeal"
        /// The simulated payment provider: how long a charge takes and the share it declines.
        public var paymentLatency: Duration = .zero
        public var paymentDeclineRate = 0.0
        /// What this process runs: everything (the default), the API alone (the request path: HTTP,
        /// GraphQL, the subscriptions' broadcast listener), or the writer alone (everything that
        /// moves data in the background: the outbox relay to Kafka, the Kafka → MongoDB consumer,
        /// the reservation sweeper and the deal scheduler), so background work can be deployed,
        /// scaled and prioritised apart from the request path. A deployment of `api` replicas needs
        /// at least one `writer` (or an `all`): nothing else relays the outbox.
        public var role: Role = .all
        /// The callers admin mutations accept (`X-User-Id`).
        public var admins: Set<UserID> = Identity.defaultAdmins
        /// Load shedding on `/graphql` (nil: none).
        public var admission: AdmissionGate.Limits? = AdmissionGate.Limits()
        /// How long public queries' answers are served from memory (`.zero`: never).
        public var responseCacheTTL: Duration = .milliseconds(250)
        /// How long the server may take to drain and stop after SIGTERM or SIGINT; what is still
        /// running then is cancelled (under Kubernetes' default 30 s grace period).
        public var shutdownTimeout: Duration = .seconds(25)

        public init() {}

        public var usesBackends: Bool { redisURL != nil || kafkaBrokers != nil || mongoURI != nil }

        /// The backends when any is given (then all three must be), else the embedded mode.
        public var mode: Mode { usesBackends ? .backends : .embedded }
    }

    public enum Role: String, Sendable, CaseIterable {
        case all, api, writer
    }

    /// Runs until SIGTERM or SIGINT, then drains and stops within the graceful-shutdown bound.
    public static func run(_ configuration: Configuration, logger: Logger) async throws {
        let metrics = ShopMetrics()
        let composition = try await compose(configuration, metrics: metrics, logger: logger)
        let shop = Shop(ports: composition.ports)
        if composition.mode == .embedded {
            try await DemoCatalog.seed(shop, now: await composition.ports.clock.now())
            logger.info("embedded mode: in-memory adapters with the demo catalogue")
        }
        let health = composition.health
        let shopRouter = try ShopRouter(
            shop: shop, configuration: .init(admins: configuration.admins, admission: configuration.admission, responseCacheTTL: configuration.responseCacheTTL),
            metrics: metrics, hub: composition.hub, orderRefusal: composition.orderRefusal
        ) {
            var states: [String: Bool] = [:]
            for (name, check) in health { states[name] = await check() }
            return states
        }
        let app = Application(
            router: shopRouter.router(), server: .http1WebSocketUpgrade(webSocketRouter: shopRouter.webSocketRouter()),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)), logger: logger)
        var group = ServiceGroupConfiguration(
            // Started in this order, stopped in reverse: the HTTP server stops first (draining its
            // requests), the relay empties the outbox it can, the producer flushes last.
            services: composition.services.map { .init(service: $0) }
                + (configuration.role == .api ? [] : [
                    .init(service: MaintenanceService(shop: shop, logger: logger)),
                    .init(service: ReconciliationService(shop: shop, logger: logger)),
                ])
                + [.init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        // After the bound, cancelled services get a second to return before the group gives up.
        group.maximumCancellationDuration = .seconds(1)
        try await ServiceGroup(configuration: group).run()
    }
}
