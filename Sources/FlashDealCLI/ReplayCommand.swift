import ArgumentParser
import Foundation
import LiveMongo
import LiveRedis
import LiveTools

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Rebuild the read models (Redis stock gates, MongoDB orders) from the event store.")

    @Option(help: "Redis URL (FLASHDEAL_REDIS_URL).") var redisURL: String?
    @Option(help: "MongoDB URI (FLASHDEAL_MONGO_URI).") var mongoURI: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let redis = redisURL ?? environment["FLASHDEAL_REDIS_URL"] else { throw ValidationError("--redis-url (or FLASHDEAL_REDIS_URL) is required") }
        guard let mongo = mongoURI ?? environment["FLASHDEAL_MONGO_URI"] else { throw ValidationError("--mongo-uri (or FLASHDEAL_MONGO_URI) is required") }
        let client = try await MongoClient(uri: mongo)
        let replay = ReadModelReplay(
            events: try await MongoEventStore(client: client), ledger: try await RedisStockLedger(pool: try await RedisPool(.init(url: redis))),
            orders: try await MongoOrderRepository(client: client))
        let summary = try await replay.run()
        print("replayed \(summary.events) events: \(summary.deals) deals restored in Redis, \(summary.orders) orders in MongoDB")
    }
}
