public import Domain
import DomainMemory
import Foundation
import Hummingbird
public import Logging
public import ServiceLifecycle

/// `flashdeal serve`: the shop on the in-memory adapters (no backend given: the embedded default,
/// seeded with a demo catalogue) or on Redis, Kafka and MongoDB, with every long-lived part a
/// Service in one ServiceGroup (maintenance first, the HTTP server last).
public enum ShopServer {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// `redis://host:port`: the stock ledger.
        public var redisURL: String?
        /// `host:port,...`: the event stream.
        public var kafkaBrokers: String?
        /// `mongodb://host:port/db`: orders and the event store.
        public var mongoURI: String?

        public init() {}

        public var usesBackends: Bool { redisURL != nil || kafkaBrokers != nil || mongoURI != nil }
    }

    /// Builds the shop's ports: the real adapter for every backend given, in-memory for the rest.
    /// A backend that does not answer is an error naming it.
    /// The ports, each backend's health check, and the Services the backends need.
    public static func ports(_ configuration: Configuration, logger: Logger) async throws -> (Shop.Ports, [String: @Sendable () async -> Bool], [any Service]) {
        let memory = InMemoryShop()
        var ports = memory.shop.ports
        ports.clock = WallClock()
        ports.identifiers = RandomIdentifiers()
        var health: [String: @Sendable () async -> Bool] = [:]
        var services: [any Service] = []
        var mongo: MongoClient?
        if let url = configuration.redisURL {
            let pool: RedisPool
            do { pool = try RedisPool(.init(url: url)) } catch { throw StartupError("Redis at \(url) does not answer: \(error)") }
            ports.ledger = try await RedisStockLedger(pool: pool)
            health["redis"] = { (try? await pool.send(["PING"])) != nil }
            logger.info("stock ledger: Redis", metadata: ["flashdeal.redis.url": "\(url)"])
        }
        if let uri = configuration.mongoURI {
            let client: MongoClient
            do { client = try await MongoClient(uri: uri) } catch { throw StartupError("MongoDB at \(uri) does not answer: \(error)") }
            mongo = client
            ports.orders = try await MongoOrderRepository(client: client)
            ports.events = try await MongoEventStore(client: client)
            health["mongo"] = { (try? await client.command(["ping": 1])) != nil }
            logger.info("orders and event store: MongoDB", metadata: ["flashdeal.mongo.uri": "\(uri)"])
        }
        if let brokers = configuration.kafkaBrokers {
            let producer: KafkaProducer
            do { producer = try KafkaProducer(.init(brokers: brokers)) } catch { throw StartupError("Kafka at \(brokers): \(error)") }
            ports.publisher = KafkaEventPublisher(producer: producer)
            services.append(ProducerService(producer: producer))
            logger.info("event publisher: Kafka", metadata: ["flashdeal.kafka.brokers": "\(brokers)", "flashdeal.librdkafka": "\(KafkaProducer.libraryVersion)"])
            if let mongo {
                let topics = ["orders", "payments", "inventory", "deals", "products"].map { "flashdeal.\($0)" }
                let consumer = try KafkaConsumer(brokers: brokers, group: "flashdeal-writers", topics: topics)
                services.append(EventConsumerService(
                    consumer: consumer, deadLetters: producer, events: try await MongoEventStore(client: mongo),
                    orders: try await MongoOrderRepository(client: mongo), logger: logger))
                logger.info("event consumer: Kafka → MongoDB", metadata: ["flashdeal.kafka.group": "flashdeal-writers"])
            }
        }
        return (ports, health, services)
    }

    /// Runs until SIGTERM or SIGINT, then drains and stops within the graceful-shutdown bound.
    public static func run(_ configuration: Configuration, logger: Logger) async throws {
        let (ports, health, backendServices) = try await ports(configuration, logger: logger)
        let shop = Shop(ports: ports)
        if !configuration.usesBackends {
            try await DemoCatalog.seed(shop, now: await ports.clock.now())
            logger.info("embedded mode: in-memory adapters with the demo catalogue")
        }
        let router = try ShopRouter(shop: shop) {
            var states: [String: Bool] = [:]
            for (name, check) in health { states[name] = await check() }
            return states
        }.router()
        let app = Application(
            router: router, configuration: .init(address: .hostname(configuration.host, port: configuration.port)), logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                // Started in this order, stopped in reverse: the HTTP server stops first, the producer
                // flushes last.
                services: backendServices.map { .init(service: $0) }
                    + [.init(service: MaintenanceService(shop: shop, logger: logger)), .init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// A backend that does not answer at start-up, named.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
