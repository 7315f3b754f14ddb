public import Domain
import DomainMemory
public import LiveAPI
public import LiveKafka
import LiveMongo
public import LiveRedis
public import LiveRuntime
public import Logging
public import ServiceLifecycle

extension ShopServer {
    /// Where the shop keeps its state: chosen once, whole, from the configuration.
    public enum Mode: String, Sendable, CaseIterable {
        /// The in-memory adapters (`DomainMemory`) in this process, seeded with a demo catalogue:
        /// no backend given.
        case embedded
        /// Redis, Kafka and MongoDB, every port a real adapter.
        case backends
    }

    /// What `serve` runs: the ports, each backend's health check, and the Services the backends
    /// need (in start order), with the relay and the consumer named for tests (nil in the embedded
    /// mode and for `--role api`, which neither relays nor joins the writers' consumer group).
    public struct Composition: Sendable {
        public var mode: Mode
        public var ports: Shop.Ports
        public var health: [String: @Sendable () async -> Bool]
        public var services: [any Service]
        public var relay: OutboxRelay?
        public var consumer: EventConsumerService?
        /// Receives every event the shop records, for subscriptions.
        public var hub: EventHub
        /// The outbox's bound on new orders (the request path's roles on the backends).
        public var backpressure: OutboxBackpressure?
        /// The buyers' and addresses' token buckets.
        public var rateLimiter: any RateLimiter
        /// The waiting rooms' queues and spent tickets.
        public var waitingRooms: any WaitingRoomStore

        /// Why the API refuses new orders now: the outbox's bound, where there is one.
        public var orderRefusal: (@Sendable () -> String?)? {
            guard let backpressure else { return nil }
            return { backpressure.refusal }
        }

        /// The adapter behind each port, by the port's name: the type's full name, module first
        /// (`LiveRedis.RedisStockLedger`), as the start-up log and the composition tests read it.
        public var adapters: [String: String] {
            func name(_ port: Any) -> String { String(reflecting: type(of: port)) }
            var adapters = [
                "ledger": name(ports.ledger), "orders": name(ports.orders), "payments": name(ports.payments),
                "catalog": name(ports.catalog), "events": name(ports.events), "publisher": name(ports.publisher),
                "idempotency": name(ports.idempotency), "gateway": name(ports.gateway), "clock": name(ports.clock),
                "identifiers": name(ports.identifiers),
            ]
            adapters["checkoutSteps"] = ports.checkoutSteps.map(name) ?? "Domain.SequentialCheckoutSteps"
            adapters["rateLimiter"] = name(rateLimiter)
            adapters["waitingRooms"] = name(waitingRooms)
            return adapters
        }
    }

    /// Builds the shop in the mode the configuration names. With no backend, the in-memory
    /// adapters; otherwise all three backends are required (the outbox lives in Redis, Kafka carries
    /// it, MongoDB keeps it), and a backend that does not answer is an error naming it.
    /// `metrics` is the registry `/metrics` serves; the writer's parts add their series to it.
    public static func compose(_ configuration: Configuration, metrics: ShopMetrics = ShopMetrics(), logger: Logger) async throws -> Composition {
        switch configuration.mode {
        case .embedded: embedded(configuration)
        case .backends: try await backends(configuration, metrics: metrics, logger: logger)
        }
    }

    /// The payment provider both modes use: the simulated one (`payment.latency`,
    /// `payment.declineRate`), the only provider this shop has.
    static func paymentProvider(_ configuration: Configuration) -> any PaymentGateway {
        ProviderLatency(
            gateway: SimulatedPaymentGateway(seed: UInt64.random(in: 1...UInt64.max), declineRate: configuration.payment.declineRate),
            latency: configuration.payment.latency)
    }

    /// The embedded mode: every store in this process's memory, the wall clock and random ids.
    static func embedded(_ configuration: Configuration) -> Composition {
        let memory = InMemoryShop()
        let hub = EventHub()
        let ports = Shop.Ports(
            ledger: memory.ledger, orders: memory.orders, payments: memory.payments, catalog: memory.catalog, events: memory.events,
            publisher: hub, idempotency: memory.idempotency, gateway: paymentProvider(configuration), clock: WallClock(),
            identifiers: RandomIdentifiers())
        return Composition(
            mode: .embedded, ports: ports, health: [:], services: [], relay: nil, consumer: nil, hub: hub, backpressure: nil,
            rateLimiter: InMemoryRateLimiter(), waitingRooms: InMemoryWaitingRoomStore())
    }

    /// The backends mode: every port a Redis, Kafka or MongoDB adapter, and the writer's parts
    /// where the role runs them.
    static func backends(_ configuration: Configuration, metrics: ShopMetrics, logger: Logger) async throws -> Composition {
        let missing = [("redis.url", configuration.redis.url), ("kafka.brokers", configuration.kafka.brokers), ("mongo.uri", configuration.mongo.uri)]
            .filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty, let url = configuration.redis.url, let brokers = configuration.kafka.brokers, let uri = configuration.mongo.uri else {
            throw StartupError("the live server needs Redis, Kafka and MongoDB together (or none, for the embedded mode); missing \(missing.joined(separator: ", "))")
        }
        BlockingCalls.size(mongo: configuration.pools.mongoThreads, kafka: configuration.pools.kafkaThreads)
        let prefix = configuration.redis.keyPrefix, topics = configuration.kafka.topicPrefix
        let (redisText, mongoText) = (Redacted.uri(url), Redacted.uri(uri))
        let pool: RedisPool
        // Settings first, on a pool that does not wait for replicas (its reads write nothing).
        do {
            let settings = try await RedisSettings.read(try await RedisPool(.init(url: url, connections: 1, connectTimeout: configuration.redis.connectTimeout)))
            if let refusal = settings.refusal ?? settings.shortfall(configuration.redis.durability, replicas: configuration.redis.replicas) {
                throw StartupError("Redis at \(redisText) cannot hold the shop's keys: \(refusal)")
            }
            if !settings.appendOnly {
                logger.warning("Redis keeps no append-only file: a Redis crash loses every order, payment and outbox entry since its last snapshot", metadata: ["flashdeal.redis.url": "\(redisText)"])
            }
        } catch let error as RedisError { throw StartupError("Redis at \(redisText) does not answer: \(error)") }
        do {
            pool = try await RedisPool(.init(
                url: url, connections: configuration.redis.connections, connectTimeout: configuration.redis.connectTimeout, replicaWait: configuration.redis.replicaWait))
        } catch { throw StartupError("Redis at \(redisText) does not answer: \(error)") }
        // Two pools on one MongoDB: the writer's (libmongoc's time-outs: its batches may wait on a
        // busy database, and are retried) and the one requests wait on (catalogue and order reads,
        // readiness), which gives up within seconds on a MongoDB that is down or hung.
        let mongo: MongoClient, requestMongo: MongoClient
        do {
            mongo = try await MongoClient(uri: uri)
            requestMongo = try await MongoClient(uri: uri, timeouts: configuration.mongo.requestTimeouts)
        } catch { throw StartupError("MongoDB at \(mongoText) does not answer: \(error)") }
        let producer: KafkaProducer, sink: RecoveringKafkaPublisher
        do {
            let producing = KafkaProducer.Configuration(
                brokers: brokers, linger: configuration.kafka.producer.linger, messageTimeout: configuration.kafka.producer.messageTimeout)
            producer = try KafkaProducer(producing)
            try await producer.checkReachable()
            sink = try RecoveringKafkaPublisher(producing, prefix: topics)
        } catch { throw StartupError("Kafka at \(brokers) does not answer: \(error)") }

        let durableOrders = try await MongoOrderRepository(client: mongo)
        let ledger = try await RedisStockLedger(pool: pool, prefix: prefix)
        let orders = try await RedisOrderRepository(pool: pool, prefix: prefix, durable: durableOrders.through(requestMongo))
        let payments = try await RedisPaymentRepository(pool: pool, prefix: prefix, durable: MongoPaymentRepository(client: requestMongo))
        let idempotency = RedisIdempotencyStore(pool: pool, prefix: prefix)
        let outbox = RedisOutbox(pool: pool, prefix: prefix, journalled: true)
        let catalog = CachedDealCatalog(
            backing: MongoDealCatalog(client: requestMongo), pool: pool, prefix: prefix, ttl: configuration.cache.catalogTTL,
            localTTL: configuration.cache.localTTL, staleLimit: configuration.cache.staleLimit, metrics: metrics.caches)
        let ports = Shop.Ports(
            ledger: ledger, orders: ReadAheadOrders(orders, startReading: orders.startReading), payments: payments, catalog: catalog, events: outbox,
            publisher: RedisBroadcast(pool: pool, prefix: prefix), idempotency: idempotency, gateway: paymentProvider(configuration),
            clock: WallClock(), identifiers: RandomIdentifiers(),
            checkoutSteps: try await RedisCheckoutSteps(ledger: ledger, orders: orders, payments: payments, idempotency: idempotency, outbox: outbox))

        // The writer's parts only where they run. A Kafka consumer joins its group as it is made,
        // and a member that never polls keeps the partitions it was given until the group gives up
        // on it (max.poll.interval.ms, five minutes): an API replica that made one held back part
        // of every sale's orders from MongoDB that long.
        var relay: OutboxRelay?, consumer: EventConsumerService?
        let outboxMetrics = OutboxMetrics(registry: metrics.registry)
        if configuration.server.role != .api {
            var relayConfiguration = OutboxRelay.Configuration()
            relayConfiguration.prefix = prefix
            relayConfiguration.batchSize = configuration.outbox.batchSize
            relayConfiguration.idle = configuration.outbox.idle
            relayConfiguration.retry = configuration.outbox.retry
            relayConfiguration.maximumRetry = configuration.outbox.maximumRetry
            relayConfiguration.claimAfter = configuration.outbox.claimAfter
            relay = OutboxRelay(
                pool: pool, sink: sink, catalog: catalog, configuration: relayConfiguration, metrics: outboxMetrics, logger: logger)
            let kinds = ["orders", "payments", "inventory", "deals", "products"].map { "\(topics).\($0)" }
            let settings = configuration.kafka.consumer.settings
            consumer = EventConsumerService(
                consumer: try KafkaConsumer(brokers: brokers, group: "\(topics)-writers", topics: kinds, settings: settings),
                remake: { try KafkaConsumer(brokers: brokers, group: "\(topics)-writers", topics: kinds, settings: settings) }, deadLetters: producer,
                deadLetterTopic: "\(topics).dead-letter", events: try await MongoEventStore(client: mongo), orders: durableOrders,
                payments: MongoPaymentRepository(client: mongo), logger: logger, batchSize: configuration.writer.batchSize,
                pollTimeout: configuration.writer.pollTimeout, metrics: WriterMetrics(registry: metrics.registry))
        }
        // Readiness per role: the request path needs Redis alone (a broker or MongoDB outage must
        // not take every API replica out of its load balancer: the outbox holds the orders); the
        // writer needs Kafka and MongoDB, and a consumer that holds partitions and keeps up.
        var health: [String: @Sendable () async -> Bool] = [:]
        if configuration.server.role != .writer { health["redis"] = { (try? await pool.send(["PING"])) != nil } }
        if configuration.server.role != .api {
            health["mongo"] = { (try? await requestMongo.command(["ping": 1])) != nil }
            health["kafka"] = { (try? await producer.checkReachable()) != nil }
        }
        if let consumer { health["consumer"] = { consumer.verdict().isReady } }
        let cap = configuration.outbox.cap
        let backpressure = configuration.server.role == .writer || cap == 0 ? nil
            : OutboxBackpressure(pool: pool, prefix: prefix, limits: .init(cap: cap), metrics: outboxMetrics, registry: metrics.registry, logger: logger)
        logger.info("live: Redis gate, outbox and hot orders; Kafka relay and consumer; MongoDB catalogue, payments and durable orders", metadata: [
            "flashdeal.redis.url": "\(redisText)", "flashdeal.kafka.brokers": "\(brokers)", "flashdeal.mongo.uri": "\(mongoText)",
            "flashdeal.librdkafka": "\(KafkaProducer.libraryVersion)",
        ])
        let hub = EventHub()
        return Composition(
            mode: .backends, ports: ports, health: health,
            // The producers first (they flush last), then the consumer, the relay and the fan-out.
            services: [ProducerService(producer: producer), ProducerService(publisher: sink)]
                + ([consumer, relay, backpressure] as [(any Service)?]).compactMap { $0 }
                + (configuration.server.role != .writer ? [RedisBroadcastListener(url: url, prefix: prefix, hub: hub, logger: logger)] : []),
            relay: relay, consumer: consumer, hub: hub, backpressure: backpressure, rateLimiter: try await RedisRateLimiter(pool: pool, prefix: prefix),
            waitingRooms: try await RedisWaitingRoomStore(pool: pool, prefix: prefix))
    }
}
