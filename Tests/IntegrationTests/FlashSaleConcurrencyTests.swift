import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Live
import Logging
import Testing

/// The sale the issue describes, through the GraphQL API on the real backends: 500 concurrent
/// `placeOrder` calls from 200 buyers on a deal of 100 units, two per buyer. Redis decides, Kafka
/// carries the events, the consumer writes them to MongoDB.
@Suite(.enabled(if: Backends.redisURL != nil && Backends.kafkaBrokers != nil && Backends.mongoURI != nil))
struct FlashSaleConcurrencyTests {
    @Test func fiveHundredBuyersNeverOversell() async throws {
        let brokers = try #require(Backends.kafkaBrokers)
        let prefix = "test\(UInt32.random(in: 0...UInt32.max))"
        let producer = try KafkaProducer(.init(brokers: brokers))
        defer { producer.shutdown() }
        let ledger = try await Backends.redisLedger()
        let memory = InMemoryShop()
        var ports = memory.shop.ports
        ports.ledger = ledger
        ports.publisher = KafkaEventPublisher(producer: producer, prefix: prefix)
        ports.clock = WallClock()
        ports.identifiers = RandomIdentifiers()
        let shop = Shop(ports: ports)
        try await shop.createProduct(try Product(id: "p", name: "Hot item", description: ""))
        let now = WallClock().now()
        let terms = try DealTerms(
            id: "hot", productID: "p", price: Money(minorUnits: 1000), startsAt: now, endsAt: now + .seconds(3600), perUserLimit: 2,
            reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 100)
        _ = try await shop.scheduleDeal(terms)
        _ = try await shop.startDeal("hot")

        let app = Application(router: try ShopRouter(shop: shop).router())
        let accepted: [(String, Int)] = try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: (String, Int)?.self) { group in
                for i in 0..<500 {
                    group.addTask {
                        let user = "buyer-\(i % 200)"
                        let quantity = 1 + i % 2
                        let body = try JSONSerialization.data(withJSONObject: [
                            "query": "mutation { placeOrder(input: {dealId: \"hot\", quantity: \(quantity), idempotencyKey: \"k-\(i)\"}) { __typename ... on OrderPlaced { order { id quantity } } } }",
                        ])
                        var headers: HTTPFields = [.contentType: "application/json"]
                        headers[HTTPField.Name("X-User-Id")!] = user
                        return try await client.execute(uri: "/graphql", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
                            let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
                            let result = (json["data"] as! [String: Any])["placeOrder"] as! [String: Any]
                            guard let order = result["order"] as? [String: Any] else { return nil }
                            return (order["id"] as! String, order["quantity"] as! Int)
                        }
                    }
                }
                var results: [(String, Int)] = []
                for try await r in group { if let r { results.append(r) } }
                return results
            }
        }
        let stock = try #require(try await ledger.stock("hot"))
        #expect(accepted.reduce(0) { $0 + $1.1 } == 100, "units accepted")
        #expect(stock.inventory.reserved == 100 && stock.inventory.available == 0 && stock.status == .soldOut)
        let orders = await memory.orders.all()
        for (user, held) in Dictionary(grouping: orders, by: \.userID).mapValues({ $0.reduce(0) { $0 + $1.quantity } }) {
            #expect(held <= 2, "\(user) holds \(held)")
        }

        // Every accepted order reaches MongoDB through Kafka, within a bound.
        let client = try await Backends.mongo()
        let mongoOrders = try await MongoOrderRepository(client: client)
        let consumer = try KafkaConsumer(brokers: brokers, group: "\(prefix)-writers", topics: ["\(prefix).orders", "\(prefix).inventory", "\(prefix).deals", "\(prefix).products"])
        let service = EventConsumerService(
            consumer: consumer, deadLetters: producer, deadLetterTopic: "\(prefix).dead-letter", events: try await MongoEventStore(client: client),
            orders: mongoOrders, logger: Logger(label: "test"))
        let ids = accepted.map { OrderID($0.0) }
        let deadline = Date().addingTimeInterval(60)
        var present = 0
        while Date() < deadline {
            _ = try await service.processBatch(timeoutMs: 500)
            present = try await mongoOrders.orders(ids).count
            if present == ids.count { break }
        }
        #expect(present == ids.count, "\(present) of \(ids.count) accepted orders in MongoDB within 60 s")
    }
}
