public import Domain
import DomainMemory
import Foundation
import Hummingbird
import HummingbirdWebSocket
public import Logging
public import ServiceLifecycle

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
    }

    public enum Role: String, Sendable, CaseIterable {
        case all, api, writer
    }

    /// What `serve` runs: the ports, each backend's health check, and the Services the backends
    /// need (in start order), with the relay and the consumer named for tests (nil in the embedded
    /// mode and for `--role api`, which neither relays nor joins the writers' consumer group).
    public struct Composition: Sendable {
        public var ports: Shop.Ports
        public var health: [String: @Sendable () async -> Bool]
        public var services: [any Service]
        public var relay: OutboxRelay?
        public var consumer: EventConsumerService?
        /// Receives every event the shop records, for subscriptions.
        public var hub: EventHub
        /// The outbox's bound on new orders (the request path's roles on the backends).
        public var backpressure: OutboxBackpressure?
    }

    /// Builds the shop's ports. With no backend, the in-memory adapters; otherwise all three
    /// backends are required (the outbox lives in Redis, Kafka carries it, MongoDB keeps it), and a
    /// backend that does not answer is an error naming it.
    /// `metrics` is the registry `/metrics` serves; the writer's parts add their series to it.
    public static func compose(_ configuration: Configuration, metrics: ShopMetrics = ShopMetrics(), logger: Logger) async throws -> Composition {
        let memory = InMemoryShop(seed: UInt64.random(in: 1...UInt64.max), declineRate: configuration.paymentDeclineRate)
        var ports = memory.shop.ports
        ports.clock = WallClock()
        ports.identifiers = RandomIdentifiers()
        ports.gateway = ProviderLatency(gateway: ports.gateway, latency: configuration.paymentLatency)
        let hub = EventHub()
        guard configuration.usesBackends else {
            ports.publisher = hub
            return Composition(ports: ports, health: [:], services: [], relay: nil, consumer: nil, hub: hub, backpressure: nil)
        }
        let missing = [("--redis-url", configuration.redisURL), ("--kafka-brokers", configuration.kafkaBrokers), ("--mongo-uri", configuration.mongoURI)]
            .filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty, let url = configuration.redisURL, let brokers = configuration.kafkaBrokers, let uri = configuration.mongoURI else {
            throw StartupError("the live server needs Redis, Kafka and MongoDB together (or none, for the embedded mode); missing \(missing.joined(separator: ", "))")
        }
        let prefix = configuration.keyPrefix, topics = configuration.topicPrefix
        let pool: RedisPool
        // Settings first, on a pool that does not wait for replicas (its reads write nothing).
        do {
            let settings = try await RedisSettings.read(try await RedisPool(.init(url: url, connections: 1)))
            if let refusal = settings.refusal ?? settings.shortfall(configuration.redisDurability, replicas: configuration.redisReplicaWait?.replicas ?? 0) {
                throw StartupError("Redis at \(url) cannot hold the shop's keys: \(refusal)")
            }
            if !settings.appendOnly {
                logger.warning("Redis keeps no append-only file: a Redis crash loses every order, payment and outbox entry since its last snapshot", metadata: ["flashdeal.redis.url": "\(url)"])
            }
        } catch let error as RedisError { throw StartupError("Redis at \(url) does not answer: \(error)") }
        do { pool = try await RedisPool(.init(url: url, replicaWait: configuration.redisReplicaWait)) } catch { throw StartupError("Redis at \(url) does not answer: \(error)") }
        // Two pools on one MongoDB: the writer's (libmongoc's time-outs: its batches may wait on a
        // busy database, and are retried) and the one requests wait on (catalogue and order reads,
        // readiness), which gives up within seconds on a MongoDB that is down or hung.
        let mongo: MongoClient, requestMongo: MongoClient
        do {
            mongo = try await MongoClient(uri: uri)
            requestMongo = try await MongoClient(uri: uri, timeouts: .requestPath)
        } catch { throw StartupError("MongoDB at \(uri) does not answer: \(error)") }
        let producer: KafkaProducer, sink: RecoveringKafkaPublisher
        do {
            producer = try KafkaProducer(.init(brokers: brokers))
            try await producer.checkReachable()
            sink = try RecoveringKafkaPublisher(.init(brokers: brokers), prefix: topics)
        } catch { throw StartupError("Kafka at \(brokers) does not answer: \(error)") }

        let durableOrders = try await MongoOrderRepository(client: mongo)
        let ledger = try await RedisStockLedger(pool: pool, prefix: prefix)
        let orders = try await RedisOrderRepository(pool: pool, prefix: prefix, durable: durableOrders.through(requestMongo))
        let payments = try await RedisPaymentRepository(pool: pool, prefix: prefix, durable: MongoPaymentRepository(client: requestMongo))
        let idempotency = RedisIdempotencyStore(pool: pool, prefix: prefix)
        let outbox = RedisOutbox(pool: pool, prefix: prefix, journalled: true)
        (ports.ledger, ports.orders, ports.payments, ports.idempotency, ports.events) = (ledger, orders, payments, idempotency, outbox)
        ports.checkoutSteps = try await RedisCheckoutSteps(ledger: ledger, orders: orders, payments: payments, idempotency: idempotency, outbox: outbox)
        ports.catalog = CachedDealCatalog(backing: MongoDealCatalog(client: requestMongo), pool: pool, prefix: prefix)
        ports.publisher = RedisBroadcast(pool: pool, prefix: prefix)

        // The writer's parts only where they run. A Kafka consumer joins its group as it is made,
        // and a member that never polls keeps the partitions it was given until the group gives up
        // on it (max.poll.interval.ms, five minutes): an API replica that made one held back part
        // of every sale's orders from MongoDB that long.
        var relay: OutboxRelay?, consumer: EventConsumerService?
        let outboxMetrics = OutboxMetrics(registry: metrics.registry)
        if configuration.role != .api {
            var relayConfiguration = OutboxRelay.Configuration()
            relayConfiguration.prefix = prefix
            relay = OutboxRelay(
                pool: pool, sink: sink, catalog: ports.catalog, configuration: relayConfiguration, metrics: outboxMetrics,
                logger: logger)
            let kinds = ["orders", "payments", "inventory", "deals", "products"].map { "\(topics).\($0)" }
            consumer = EventConsumerService(
                consumer: try KafkaConsumer(brokers: brokers, group: "\(topics)-writers", topics: kinds),
                remake: { try KafkaConsumer(brokers: brokers, group: "\(topics)-writers", topics: kinds) }, deadLetters: producer,
                deadLetterTopic: "\(topics).dead-letter", events: try await MongoEventStore(client: mongo), orders: durableOrders,
                payments: MongoPaymentRepository(client: mongo), logger: logger,
                metrics: WriterMetrics(registry: metrics.registry))
        }
        // Readiness per role: the request path needs Redis alone (a broker or MongoDB outage must
        // not take every API replica out of its load balancer: the outbox holds the orders); the
        // writer needs Kafka and MongoDB, and a consumer that holds partitions and keeps up.
        var health: [String: @Sendable () async -> Bool] = [:]
        if configuration.role != .writer { health["redis"] = { (try? await pool.send(["PING"])) != nil } }
        if configuration.role != .api {
            health["mongo"] = { (try? await requestMongo.command(["ping": 1])) != nil }
            health["kafka"] = { (try? await producer.checkReachable()) != nil }
        }
        if let consumer { health["consumer"] = { consumer.verdict().isReady } }
        let backpressure = configuration.role == .writer ? nil : configuration.outboxCap.map {
            OutboxBackpressure(pool: pool, prefix: prefix, limits: .init(cap: $0), metrics: outboxMetrics, registry: metrics.registry, logger: logger)
        }
        logger.info("live: Redis gate, outbox and hot orders; Kafka relay and consumer; MongoDB catalogue, payments and durable orders", metadata: [
            "flashdeal.redis.url": "\(url)", "flashdeal.kafka.brokers": "\(brokers)", "flashdeal.mongo.uri": "\(uri)",
            "flashdeal.librdkafka": "\(KafkaProducer.libraryVersion)",
        ])
        return Composition(
            ports: ports, health: health,
            // The producers first (they flush last), then the consumer, the relay and the fan-out.
            services: [ProducerService(producer: producer), ProducerService(publisher: sink)]
                + ([consumer, relay, backpressure] as [(any Service)?]).compactMap { $0 }
                + (configuration.role != .writer ? [RedisBroadcastListener(url: url, prefix: prefix, hub: hub, logger: logger)] : []),
            relay: relay, consumer: consumer, hub: hub, backpressure: backpressure)
    }

    /// Runs until SIGTERM or SIGINT, then drains and stops within the graceful-shutdown bound.
    public static func run(_ configuration: Configuration, logger: Logger) async throws {
        let metrics = ShopMetrics()
        let composition = try await compose(configuration, metrics: metrics, logger: logger)
        let shop = Shop(ports: composition.ports)
        if !configuration.usesBackends {
            try await DemoCatalog.seed(shop, now: await composition.ports.clock.now())
            logger.info("embedded mode: in-memory adapters with the demo catalogue")
        }
        let health = composition.health
        let shopRouter = try ShopRouter(shop: shop, configuration: .init(admins: configuration.admins, admission: configuration.admission, responseCacheTTL: configuration.responseCacheTTL), metrics: metrics, hub: composition.hub, backpressure: composition.backpressure) {
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

/// A backend that does not answer at start-up, named.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The payment provider's latency: each charge and refund waits `latency` before the provider
/// answers (what `--payment-latency-ms` sets; the simulator models the same stage).
public struct ProviderLatency: PaymentGateway {
    let gateway: any PaymentGateway
    let latency: Duration

    public init(gateway: any PaymentGateway, latency: Duration) {
        self.gateway = gateway
        self.latency = latency
    }

    public func charge(_ payment: PaymentID, amount: Money, idempotencyKey: IdempotencyKey) async throws -> ChargeResult {
        if latency > .zero { try await Task.sleep(for: latency) }
        return try await gateway.charge(payment, amount: amount, idempotencyKey: idempotencyKey)
    }

    public func refund(_ payment: PaymentID, amount: Money) async throws {
        if latency > .zero { try await Task.sleep(for: latency) }
        try await gateway.refund(payment, amount: amount)
    }
}
