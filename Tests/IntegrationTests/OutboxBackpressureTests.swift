import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Live
import LiveAPI
import LiveRedis
import Logging
import Testing

/// The outbox's cap on the live composition (an API replica, so no relay drains it): once as many
/// entries wait as the cap allows, a new order is refused with a message saying why and nothing
/// is reserved, a payment of an order already taken still goes through, and orders are taken again
/// once the outbox is back under the cap.
@Suite(.enabled(if: Backends.allThere))
struct OutboxBackpressureTests {
    @Test func newOrdersWaitWhileTheOutboxIsFullAndPaymentsGoOn() async throws {
        var configuration = try Backends.liveConfiguration()
        configuration.server.role = .api
        configuration.outbox.cap = 4
        let url: String = try #require(configuration.redis.url)
        let prefix = configuration.redis.keyPrefix
        let composition = try await ShopServer.compose(configuration, logger: Logger(label: "test"))
        let backpressure = try #require(composition.backpressure)
        let shop = Shop(ports: composition.ports)
        let now = await shop.ports.clock.now()
        try await shop.createProduct(try Product(id: "p-cap", name: "Kettle", description: ""))
        _ = try await shop.scheduleDeal(try DealTerms(
            id: "d-cap", productID: "p-cap", price: Money(minorUnits: 500), startsAt: now - .seconds(1), endsAt: now + .seconds(3600),
            perUserLimit: 2, reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 10))
        _ = try await shop.startDeal("d-cap")
        let app = Application(router: try ShopRouter(shop: shop, orderRefusal: composition.orderRefusal).router())
        try await app.test(.router) { client in
            let first = try await Self.place(client, user: "u-1")
            let id = try #require(((first["data"] as? [String: Any])?["placeOrder"] as? [String: Any])?["order"] as? [String: Any])["id"] as? String
            _ = try await Self.place(client, user: "u-2")
            // The gate's create, start and two reservations: four entries, the cap.
            #expect(try await backpressure.check() >= 4)

            let refused = try await Self.place(client, user: "u-3")
            let message = ((refused["errors"] as? [[String: Any]])?.first?["message"] as? String) ?? "\(refused)"
            #expect(message.contains("new orders are paused") && message.contains("the cap is 4"), "\(message)")
            #expect(try await shop.ports.ledger.stock("d-cap")?.inventory.reserved == 2, "nothing reserved for the refused order")

            let paid = try await Self.post(client, "mutation { payOrder(input: {orderId: \"\(try #require(id))\", idempotencyKey: \"pay\"}) { __typename } }", user: "u-1")
            #expect(((paid["data"] as? [String: Any])?["payOrder"] as? [String: Any])?["__typename"] as? String == "OrderPaid", "\(paid)")

            // The relay's work, done by hand: the outbox drained, orders are taken again.
            // (By name: on a Redis Cluster, KEYS answers for one primary's keys only.)
            let pool = try await RedisPool(.init(url: url, connections: 1))
            for stream in ["\(prefix):outbox", "\(prefix):{d-cap}:journal", "\(prefix):{d-cap}:outbox"] { _ = try await pool.send(["DEL", stream]) }
            #expect(try await backpressure.check() == 0)
            let again = try await Self.place(client, user: "u-3")
            #expect(((again["data"] as? [String: Any])?["placeOrder"] as? [String: Any])?["__typename"] as? String == "OrderPlaced", "\(again)")
        }
    }

    static func place(_ client: some TestClientProtocol, user: String) async throws -> [String: Any] {
        try await post(client, "mutation { placeOrder(input: {dealId: \"d-cap\", quantity: 1, idempotencyKey: \"k\"}) { __typename ... on OrderPlaced { order { id } } } }", user: user)
    }

    static func post(_ client: some TestClientProtocol, _ query: String, user: String) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: ["query": query])
        let headers: HTTPFields = [.contentType: "application/json", .authorization: try await Authenticator.bearer(user)]
        return try await client.execute(uri: "/graphql", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
            try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
        }
    }
}
