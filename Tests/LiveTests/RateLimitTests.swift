import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import LiveAPI
import NIOCore
import Testing

/// Each buyer's bucket bounds its business mutations (`RateLimited`), each address's bucket its
/// requests (429 with a jittered `Retry-After`); the shop's clock decides, so these run on the
/// manual one.
@Suite struct RateLimitTests {
    static func app(
        _ configuration: ShopRouter.Configuration, limiter: any RateLimiter = InMemoryRateLimiter()
    ) async throws -> (some ApplicationProtocol, InMemoryShop) {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let router = try ShopRouter(shop: memory.shop, configuration: configuration, rateLimiter: limiter)
        return (Application(router: router.router()), memory)
    }

    static func post(_ client: some TestClientProtocol, _ query: String, user: String, address: String? = nil) async throws -> (HTTPResponse, [String: Any]) {
        var headers: HTTPFields = [.contentType: "application/json", .authorization: try await Authenticator.bearer(user)]
        if let address { headers[HTTPField.Name("X-Forwarded-For")!] = "203.0.113.9, \(address)" }
        let body = try JSONSerialization.data(withJSONObject: ["query": query])
        return try await client.execute(uri: "/graphql", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
            (response.head, try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:])
        }
    }

    static func cancel(_ n: Int) -> String { #"mutation { cancelOrder(input: {orderId: "o-\#(n)"}) { __typename ... on RateLimited { retryAfterMs } } }"# }
    static func result(_ answer: [String: Any]) -> [String: Any]? { (answer["data"] as? [String: Any])?["cancelOrder"] as? [String: Any] }

    @Test func aBuyersBusinessMutationsAreBoundedByItsBucket() async throws {
        let (app, memory) = try await Self.app(.init(buyerLimit: .init(rate: 2, burst: 3)))
        try await app.test(.router) { client in
            for n in 0..<3 { #expect(Self.result(try await Self.post(client, Self.cancel(n), user: "u-1").1)?["__typename"] as? String == "OrderNotFound") }
            let limited = try #require(Self.result(try await Self.post(client, Self.cancel(3), user: "u-1").1))
            #expect(limited["__typename"] as? String == "RateLimited" && limited["retryAfterMs"] as? Int == 500, "\(limited)")
            #expect(Self.result(try await Self.post(client, Self.cancel(4), user: "u-2").1)?["__typename"] as? String == "OrderNotFound", "another buyer's bucket")
            let (head, read) = try await Self.post(client, #"{ deal(id: "deal-sneakers") { id } }"#, user: "u-1")
            #expect(head.status == .ok && read["errors"] == nil, "queries take nothing from the buyer's bucket")
            await memory.clock.advance(by: .milliseconds(500))
            #expect(Self.result(try await Self.post(client, Self.cancel(5), user: "u-1").1)?["__typename"] as? String == "OrderNotFound", "refilled")
        }
    }

    /// The proxy's header names the client in its last entry that is not empty; without one, the
    /// connection's peer is the client.
    @Test func theClientAddressIsTheProxysLastEntry() throws {
        let router = try ShopRouter(shop: InMemoryShop().shop, configuration: .init(clientAddressHeader: "X-Forwarded-For"))
        let peer = try SocketAddress(ipAddress: "192.0.2.1", port: 80)
        func address(_ value: String?) -> String? {
            var headers: HTTPFields = [:]
            if let value { headers[HTTPField.Name("X-Forwarded-For")!] = value }
            return router.address(headers, peer: peer)
        }
        #expect(address("203.0.113.9, 198.51.100.7") == "198.51.100.7")
        #expect(address("203.0.113.9,\t198.51.100.7 ,,") == "198.51.100.7", "empty entries skipped, white space trimmed")
        #expect(address("198.51.100.7") == "198.51.100.7")
        #expect(address(" , ") == "192.0.2.1", "no entry: the peer")
        #expect(address(nil) == "192.0.2.1")
        let unproxied = try ShopRouter(shop: InMemoryShop().shop)
        #expect(unproxied.address([HTTPField.Name("X-Forwarded-For")!: "198.51.100.7"], peer: peer) == "192.0.2.1", "no header configured: the peer")
    }

    @Test func anAddressIsBoundedByItsBucketWith429AndAJitteredRetryAfter() async throws {
        let (app, memory) = try await Self.app(.init(addressLimit: .init(rate: 1, burst: 2), clientAddressHeader: "X-Forwarded-For"))
        try await app.test(.router) { client in
            let query = #"{ deal(id: "deal-sneakers") { id } }"#
            for _ in 0..<2 { #expect(try await Self.post(client, query, user: "u-1", address: "198.51.100.7").0.status == .ok) }
            let (head, body) = try await Self.post(client, query, user: "u-2", address: "198.51.100.7")
            #expect(head.status == .tooManyRequests, "whatever buyer: \(body)")
            let retry = try #require(head.headerFields[.retryAfter].flatMap(Int.init))
            #expect((1...2).contains(retry), "one second to wait, up to a second of jitter: \(retry)")
            #expect(try await Self.post(client, query, user: "u-1", address: "198.51.100.8").0.status == .ok, "another address")
            // A mutation from the address that is over waits for its bucket and does not run.
            let place = #"mutation { placeOrder(input: {dealId: "deal-sneakers", quantity: 1, idempotencyKey: "k-rl"}) { __typename } }"#
            #expect(try await Self.post(client, place, user: "u-3", address: "198.51.100.7").0.status == .tooManyRequests)
            #expect(try await memory.ledger.stock("deal-sneakers")?.inventory.reserved == 0, "nothing was ordered")
        }
    }

    /// The rate limiter's round trips, by the keys each asked.
    actor CountingLimiter: RateLimiter {
        let limiter = InMemoryRateLimiter()
        var asked: [[String]] = []

        func take(_ keys: [RateLimitedKey], at now: Instant) async throws -> RateLimitRefusal? {
            asked.append(keys.map(\.key))
            return await limiter.take(keys, at: now)
        }
    }

    @Test func aBusinessMutationAsksBothBucketsInOneRoundTrip() async throws {
        let counting = CountingLimiter()
        let (app, _) = try await Self.app(
            .init(buyerLimit: .init(rate: 2, burst: 4), addressLimit: .init(rate: 1, burst: 3), clientAddressHeader: "X-Forwarded-For"), limiter: counting)
        try await app.test(.router) { client in
            #expect(Self.result(try await Self.post(client, Self.cancel(0), user: "u-1", address: "198.51.100.7").1)?["__typename"] as? String == "OrderNotFound")
            #expect(await counting.asked == [["address:198.51.100.7", "buyer:u-1"]])
            // Two business calls in one document: the second asks the buyer's bucket on its own.
            let twice = #"mutation { a: cancelOrder(input: {orderId: "o-1"}) { __typename } b: cancelOrder(input: {orderId: "o-2"}) { __typename } }"#
            _ = try await Self.post(client, twice, user: "u-1", address: "198.51.100.7")
            #expect(await counting.asked.suffix(2) == [["address:198.51.100.7", "buyer:u-1"], ["buyer:u-1"]])
            _ = try await Self.post(client, #"{ deal(id: "deal-sneakers") { id } }"#, user: "u-1", address: "198.51.100.7")
            #expect(await counting.asked.last == ["address:198.51.100.7"], "a query asks the address's bucket only")
            // The address is over: the 429 took nothing from the buyer's bucket (one token is left of four).
            #expect(try await Self.post(client, Self.cancel(3), user: "u-1", address: "198.51.100.7").0.status == .tooManyRequests)
            #expect(Self.result(try await Self.post(client, Self.cancel(4), user: "u-1", address: "198.51.100.8").1)?["__typename"] as? String == "OrderNotFound")
            let limited = Self.result(try await Self.post(client, Self.cancel(5), user: "u-1", address: "198.51.100.8").1)
            #expect(limited?["__typename"] as? String == "RateLimited", "\(String(describing: limited))")
        }
    }
}
