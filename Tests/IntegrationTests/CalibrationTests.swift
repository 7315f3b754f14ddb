import Domain
import Foundation
import Live
import LiveAPI
import LiveTools
import Logging
import Testing

/// `flashdeal calibrate`'s probes on the real backends: every timing is measured and positive, and
/// every GraphQL operation of the simulator gets a CPU time.
@Suite(.enabled(if: Backends.allThere))
struct CalibrationTests {
    @Test func probesTimeEveryBackendAndEveryOperation() async throws {
        var configuration = try Backends.liveConfiguration()
        configuration.server.role = .api
        let composition = try await ShopServer.compose(configuration, logger: Logger(label: "test"))
        let shop = Shop(ports: composition.ports)
        let tag = configuration.redis.keyPrefix
        let probes = try await BackendProbes(
            redisURL: try #require(configuration.redis.url), kafkaBrokers: try #require(configuration.kafka.brokers),
            mongoURI: try #require(configuration.mongo.uri), tag: tag)
        defer { probes.close() }
        let operations = try await OperationProbes(router: try ShopRouter(shop: shop, hub: composition.hub), shop: shop, tag: tag, samples: 20)
        let ping = try await probes.time(20) { try await probes.ping() }
        let gate = try await probes.time(20) { try await operations.reserveDirect() }
        let produce = try await probes.time(3) { try await probes.produce(50) }
        let insert = try await probes.time(3) { try await probes.insert(100) }
        #expect(ping.mean > 0 && gate.mean > 0 && produce.mean > 0 && insert.mean > 0)
        let cpu = try await operations.cpuPerOperation()
        #expect(Set(cpu.keys) == ["listDeals", "viewDeal", "placeOrder", "payOrder", "cancelOrder", "orderStatus"])
        #expect(cpu.values.allSatisfy { $0 > 0 })
        let stock = try #require(try await shop.ports.ledger.stock(DealID(generated: "probe-\(tag)")))
        #expect(stock.inventory.reserved + stock.inventory.sold > 0, "the probes really placed orders")
    }
}
