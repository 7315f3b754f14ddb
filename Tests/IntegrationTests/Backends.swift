import Foundation
import Live
import LiveMongo
import LiveRedis
import Testing

/// The real backends `make test` starts (`scripts/backends.sh up` writes their URLs).
enum Backends {
    static var redisURL: String? { ProcessInfo.processInfo.environment["FLASHDEAL_REDIS_URL"] }
    static var mongoURI: String? { ProcessInfo.processInfo.environment["FLASHDEAL_MONGO_URI"] }
    static var kafkaBrokers: String? { ProcessInfo.processInfo.environment["FLASHDEAL_KAFKA_BROKERS"] }
    /// The tansu binary, for tests that run (and kill) a broker of their own.
    static var tansu: String? { ProcessInfo.processInfo.environment["FLASHDEAL_TANSU"] }
    /// The `.venv` Python (confluent-kafka, for a plain librdkafka client beside ours).
    static var python: String? { ProcessInfo.processInfo.environment["FLASHDEAL_PYTHON"] }
    /// The k6 binary, for the load-test smoke run.
    static var k6: String? { ProcessInfo.processInfo.environment["FLASHDEAL_K6"] }

    /// A client on a database of its own (`test-<random>`) on the real MongoDB-compatible server.
    static func mongo() async throws -> MongoClient {
        try await MongoClient(uri: try mongoTestURI())
    }

    /// The MongoDB URI with a database of its own (`test-<random>`).
    static func mongoTestURI() throws -> String {
        let uri = try #require(mongoURI, "FLASHDEAL_MONGO_URI is not set: run through `make test`")
        var components = try #require(URLComponents(string: uri))
        components.path = "/test-\(UInt32.random(in: 0...UInt32.max))"
        return components.string!
    }

    /// The live server's composition on the real backends, under key, topic and database names
    /// of its own; `brokers` overrides the shared broker.
    static func liveConfiguration(brokers: String? = nil) throws -> ShopServer.Configuration {
        var configuration = ShopServer.Configuration()
        // Bound to non-optional names first: `#require` into an optional property never fails.
        let url: String = try #require(redisURL, "FLASHDEAL_REDIS_URL is not set: run through `make test`")
        let kafka: String = try #require(brokers ?? kafkaBrokers, "FLASHDEAL_KAFKA_BROKERS is not set: run through `make test`")
        configuration.redis.url = url
        configuration.kafka.brokers = kafka
        configuration.mongo.uri = try mongoTestURI()
        let tag = UInt32.random(in: 0...UInt32.max)
        configuration.redis.keyPrefix = "test\(tag)"
        configuration.kafka.topicPrefix = "test\(tag)"
        return configuration
    }

    static var allThere: Bool { redisURL != nil && kafkaBrokers != nil && mongoURI != nil }

    /// A Redis ledger under a key prefix of its own, so runs never see each other's keys.
    static func redisLedger() async throws -> RedisStockLedger {
        try await RedisStockLedger(pool: try await redisPool(), prefix: uniquePrefix())
    }

    static func redisPool() async throws -> RedisPool {
        let url = try #require(redisURL, "FLASHDEAL_REDIS_URL is not set: run through `make test`")
        return try await RedisPool(.init(url: url, connections: 4))
    }

    /// A key prefix no other run uses.
    static func uniquePrefix() -> String { "test-\(UInt64.random(in: 0...UInt64.max))" }
}

@Suite struct BackendsAreThere {
    /// Under CI the real-backend suites must run, never skip.
    @Test func ciHasTheBackends() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(Backends.redisURL != nil && Backends.mongoURI != nil && Backends.kafkaBrokers != nil)
            #expect(Backends.tansu != nil && Backends.k6 != nil, "the broker-outage test and the k6 smoke run need FLASHDEAL_TANSU and FLASHDEAL_K6")
        }
    }

    @Test(.enabled(if: Backends.redisURL != nil)) func unreachableRedisIsAClearError() async throws {
        do {
            _ = try await RedisPool(.init(url: "redis://127.0.0.1:1", connections: 1, connectTimeout: .milliseconds(300)))
            Issue.record("connected to a closed port")
        } catch let error as RedisError {
            #expect(error.description.contains("cannot connect to Redis at 127.0.0.1:1"))
        }
        await #expect(throws: RedisError.self) { _ = try await RedisPool(.init(url: "http://nope", connections: 1)) }
    }
}

@Suite struct MongoConnectionTests {
    @Test(.enabled(if: Backends.mongoURI != nil)) func unreachableMongoIsAClearError() async throws {
        do {
            _ = try await MongoClient(uri: "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=300")
            Issue.record("connected to a closed port")
        } catch let error as MongoError {
            #expect(error.description.contains("cannot reach MongoDB at mongodb://127.0.0.1:1"))
        }
        await #expect(throws: MongoError.self) { _ = try await MongoClient(uri: "not a uri") }
    }
}

extension MongoConnectionTests {
    /// The request path's pool bounds how long a read waits on MongoDB; a URI's own bounds win,
    /// and the writer's pool keeps libmongoc's.
    @Test(.enabled(if: Backends.mongoURI != nil)) func requestPathTimeoutsApplyWhereTheURISetsNone() async throws {
        let uri = try Backends.mongoTestURI()
        let request = try await MongoClient(uri: uri, timeouts: .requestPath)
        #expect(request.option("serverSelectionTimeoutMS") == 2000)
        #expect(request.option("connectTimeoutMS") == 2000)
        #expect(request.option("socketTimeoutMS") == 5000)
        let writer = try await MongoClient(uri: uri)
        #expect(writer.option("socketTimeoutMS") == nil && writer.option("serverSelectionTimeoutMS") == nil)
        // Writes wait for a majority by default; a URI's own w wins.
        #expect(writer.writesWaitForMajority)
        let acknowledged = try await MongoClient(uri: uri + (uri.contains("?") ? "&" : "?") + "w=1")
        #expect(!acknowledged.writesWaitForMajority)
        let own = try await MongoClient(uri: uri + (uri.contains("?") ? "&" : "?") + "socketTimeoutMS=777", timeouts: .requestPath)
        #expect(own.option("socketTimeoutMS") == 777 && own.option("serverSelectionTimeoutMS") == 2000)
    }
}
