import ArgumentParser
import Foundation
import Live
import LiveMongo
import LiveRedis
import LiveTools

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Rebuild the read models (Redis stock gates, MongoDB orders) from the event store.")

    @OptionGroup var backends: BackendOptions

    func run() async throws {
        let configuration = try backends.backends()
        let client = try await MongoClient(uri: configuration.mongo.uri ?? "")
        let pool = try await RedisPool(.init(url: configuration.redis.url ?? ""))
        let replay = ReadModelReplay(
            events: try await MongoEventStore(client: client), ledger: try await RedisStockLedger(pool: pool, prefix: configuration.redis.keyPrefix),
            orders: try await MongoOrderRepository(client: client))
        let summary = try await replay.run()
        print("replayed \(summary.events) events: \(summary.deals) deals restored in Redis, \(summary.orders) orders in MongoDB")
    }
}
