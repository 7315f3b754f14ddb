import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Live
import LiveAPI
import LiveMongo
import LiveRuntime
import Logging
import Testing

/// The sale the issue describes, through the GraphQL API on the live server's own composition
/// (`ShopServer.compose`) on the real backends: 500 concurrent `placeOrder` calls from 200 buyers
/// on a deal of 100 units, two per buyer. Redis decides and keeps the outbox, the relay carries it
/// to Kafka, the consumer writes MongoDB.
@Suite(.enabled(if: Backends.allThere))
struct FlashSaleConcurrencyTests {
    @Test func fiveHundredBuyersNeverOversell() async throws {
        let sale = try await LiveSale(stock: 100, limit: 2)
        let attempts = (0..<500).map { i in (user: "buyer-\(i % 200)", quantity: 1 + i % 2, key: "k-\(i)") }
        let accepted = try await sale.place(attempts)
        let stock = try #require(try await sale.shop.ports.ledger.stock(sale.dealID))
        #expect(accepted.reduce(0) { $0 + $1.quantity } == 100, "units accepted")
        #expect(stock.inventory.reserved == 100 && stock.inventory.available == 0 && stock.status == .soldOut)
        for (user, held) in Dictionary(grouping: accepted, by: \.user).mapValues({ $0.reduce(0) { $0 + $1.quantity } }) {
            #expect(held <= 2, "\(user) holds \(held)")
        }
        // Every accepted order reaches MongoDB through the outbox, Kafka and the consumer, within a bound.
        let present = try await sale.deliver(accepted.map(\.orderID), within: .seconds(60))
        #expect(present == accepted.count, "\(present) of \(accepted.count) accepted orders in MongoDB within 60 s")
    }
}

/// An API replica beside the writer, as `serve --role api` and `--role writer` run: the API
/// replica must not join the writers' Kafka consumer group. A member that never polls keeps the
/// partitions it is given for `max.poll.interval.ms` (five minutes), and the orders of every deal
/// keyed to them wait that long for MongoDB. Orders on eight deals, which spread over the topics'
/// partitions, all arrive.
@Suite(.enabled(if: Backends.allThere))
struct APIReplicaTests {
    @Test func anAPIReplicaLeavesEveryPartitionToTheWriter() async throws {
        let shared = try Backends.liveConfiguration()
        var apiConfiguration = shared
        apiConfiguration.server.role = .api
        let api = try await ShopServer.compose(apiConfiguration, logger: Logger(label: "test-api"))
        #expect(api.consumer == nil && api.relay == nil, "an API replica neither relays nor consumes")
        let sale = try await LiveSale(stock: 100, limit: 2, configuration: shared)
        let now = WallClock().now()
        var ids: [OrderID] = []
        for i in 0..<8 {
            let deal = DealID("spread-\(i)")
            _ = try await sale.shop.scheduleDeal(try DealTerms(
                id: deal, productID: "p", price: Money(minorUnits: 1000), startsAt: now, endsAt: now + .seconds(3600), perUserLimit: 2,
                reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 10))
            _ = try await sale.shop.startDeal(deal)
            let outcome = try await sale.shop.placeOrder(PlaceOrderCommand(dealID: deal, userID: UserID("u-\(i)"), quantity: 1, idempotencyKey: IdempotencyKey("k-\(i)")))
            guard case .placed(let order) = outcome else { Issue.record("deal \(deal): \(outcome)"); continue }
            ids.append(order.id)
        }
        let present = try await sale.deliver(ids, within: .seconds(60))
        #expect(present == 8, "\(present) of 8 orders in MongoDB within 60 s with an API replica running")
        withExtendedLifetime(api) {}
    }
}

/// A deal on the live composition, and a GraphQL client for it.
struct LiveSale {
    let composition: ShopServer.Composition
    let shop: Shop
    let app: Application<RouterResponder<ShopRequestContext>>
    let durable: MongoOrderRepository
    let dealID: DealID = "hot"

    struct Accepted: Sendable {
        var orderID: OrderID
        var user: String
        var quantity: Int
    }

    init(stock: Int, limit: Int, brokers: String? = nil, configuration given: ShopServer.Configuration? = nil) async throws {
        let configuration = try given ?? Backends.liveConfiguration(brokers: brokers)
        composition = try await ShopServer.compose(configuration, logger: Logger(label: "test"))
        shop = Shop(ports: composition.ports)
        durable = try await MongoOrderRepository(client: try await MongoClient(uri: try #require(configuration.mongo.uri)))
        try await shop.createProduct(try Product(id: "p", name: "Hot item", description: ""))
        let now = WallClock().now()
        let terms = try DealTerms(
            id: dealID, productID: "p", price: Money(minorUnits: 1000), startsAt: now, endsAt: now + .seconds(3600), perUserLimit: limit,
            reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: stock)
        _ = try await shop.scheduleDeal(terms)
        _ = try await shop.startDeal(dealID)
        app = Application(router: try ShopRouter(shop: shop).router())
    }

    /// Places every attempt concurrently through `POST /graphql`; returns the accepted ones.
    func place(_ attempts: [(user: String, quantity: Int, key: String)]) async throws -> [Accepted] {
        let dealID = self.dealID
        return try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: Accepted?.self) { group in
                for attempt in attempts {
                    group.addTask {
                        let body = try JSONSerialization.data(withJSONObject: [
                            "query": "mutation { placeOrder(input: {dealId: \"\(dealID)\", quantity: \(attempt.quantity), idempotencyKey: \"\(attempt.key)\"}) { __typename ... on OrderPlaced { order { id quantity } } } }",
                        ])
                        var headers: HTTPFields = [.contentType: "application/json"]
                        headers[.authorization] = try await Authenticator.bearer(attempt.user)
                        return try await client.execute(uri: "/graphql", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
                            let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
                            let result = try #require((json["data"] as? [String: Any])?["placeOrder"] as? [String: Any], "\(json)")
                            guard let order = result["order"] as? [String: Any] else { return nil }
                            return Accepted(orderID: OrderID(order["id"] as! String), user: attempt.user, quantity: order["quantity"] as! Int)
                        }
                    }
                }
                var results: [Accepted] = []
                for try await r in group { if let r { results.append(r) } }
                return results
            }
        }
    }

    /// Runs the relay and the consumer until every order is in MongoDB or `within` passes;
    /// returns how many are.
    func deliver(_ ids: [OrderID], within: Duration) async throws -> Int {
        let relay = try #require(composition.relay), consumer = try #require(composition.consumer)
        let deadline = ContinuousClock.now + within
        var present = 0
        var failures: [String] = []
        while ContinuousClock.now < deadline {
            do { _ = try await relay.relayOnce() } catch { failures.append("relay: \(error)") }
            do { _ = try await consumer.processBatch(timeoutMs: 300) } catch { failures.append("consumer: \(error)") }
            present = try await durable.orders(ids).count
            if present == ids.count { break }
        }
        if present < ids.count { Issue.record("not delivered; failures seen: \(Set(failures).sorted())") }
        return present
    }
}
