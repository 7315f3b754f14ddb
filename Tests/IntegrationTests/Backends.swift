import Foundation
import Live
import Testing

/// The real backends `make test` starts (`scripts/backends.sh up` writes their URLs).
enum Backends {
    static var redisURL: String? { ProcessInfo.processInfo.environment["FLASHDEAL_REDIS_URL"] }
    static var mongoURI: String? { ProcessInfo.processInfo.environment["FLASHDEAL_MONGO_URI"] }
    static var kafkaBrokers: String? { ProcessInfo.processInfo.environment["FLASHDEAL_KAFKA_BROKERS"] }

    /// A client on a database of its own (`test-<random>`) on the real MongoDB-compatible server.
    static func mongo() async throws -> MongoClient {
        let uri = try #require(mongoURI, "FLASHDEAL_MONGO_URI is not set: run through `make test`")
        var components = try #require(URLComponents(string: uri))
        components.path = "/test-\(UInt32.random(in: 0...UInt32.max))"
        return try await MongoClient(uri: components.string!)
    }

    /// A Redis ledger under a key prefix of its own, so runs never see each other's keys.
    static func redisLedger() async throws -> RedisStockLedger {
        let url = try #require(redisURL, "FLASHDEAL_REDIS_URL is not set: run through `make test`")
        let pool = try RedisPool(.init(url: url, connections: 4))
        return try await RedisStockLedger(pool: pool, prefix: "test-\(UInt64.random(in: 0...UInt64.max))")
    }
}

@Suite struct BackendsAreThere {
    /// Under CI the real-backend suites must run, never skip.
    @Test func ciHasTheBackends() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(Backends.redisURL != nil && Backends.mongoURI != nil && Backends.kafkaBrokers != nil)
        }
    }

    @Test(.enabled(if: Backends.redisURL != nil)) func unreachableRedisIsAClearError() async throws {
        do {
            _ = try RedisPool(.init(url: "redis://127.0.0.1:1", connections: 1, connectTimeout: .milliseconds(300)))
            Issue.record("connected to a closed port")
        } catch let error as RedisError {
            #expect(error.description.contains("cannot connect to Redis at 127.0.0.1:1"))
        }
        #expect(throws: RedisError.self) { _ = try RedisPool(.init(url: "http://nope", connections: 1)) }
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
