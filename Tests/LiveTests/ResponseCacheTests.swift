import DomainMemory
import Foundation
import GraphQL
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import LiveAPI
@testable import LiveRuntime
import Testing

/// Public queries' answers served from memory for a short time; everything else never.
@Suite struct ResponseCacheTests {
    static let view = #"{"query":"query($id: ID!) { deal(id: $id) { id available } }","variables":{"id":"deal-sneakers"}}"#

    static func available(_ client: some TestClientProtocol, _ body: String, user: String? = nil) async throws -> Int? {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let user { headers[.authorization] = try await Authenticator.bearer(user, admin: user == "admin") }
        return try await client.execute(uri: "/graphql", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            #expect(response.status == .ok)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            return ((json?["data"] as? [String: Any])?["deal"] as? [String: Any])?["available"] as? Int
        }
    }

    @Test func aPublicQueryIsAnsweredFromMemoryUntilItsTimeIsUpAndAdminsReadFresh() async throws {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let router = try ShopRouter(shop: memory.shop, configuration: .init(responseCacheTTL: .seconds(600)))
        let app = Application(router: router.router())
        try await app.test(.router) { client in
            let before = try #require(try await Self.available(client, Self.view))
            let place = #"{"query":"mutation { placeOrder(input: {dealId: \"deal-sneakers\", quantity: 2, idempotencyKey: \"rc-1\"}) { __typename } }"}"#
            try await client.execute(uri: "/graphql", method: .post, headers: [.contentType: "application/json", .authorization: try await Authenticator.bearer("u-rc")], body: ByteBuffer(string: place)) { response in
                #expect(String(buffer: response.body).contains("OrderPlaced"))
            }
            // Shoppers, anonymous or not, get the kept answer; an admin reads the stock as it is.
            #expect(try await Self.available(client, Self.view) == before)
            #expect(try await Self.available(client, Self.view, user: "u-other") == before)
            #expect(try await Self.available(client, Self.view, user: "admin") == before - 2)
            // Another body is another entry.
            let spaced = Self.view.replacingOccurrences(of: "{ id available }", with: "{ available id }")
            #expect(try await Self.available(client, spaced) == before - 2)
        }
    }

    @Test func withoutATimeToLiveNothingIsKept() async throws {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let router = try ShopRouter(shop: memory.shop)
        #expect(router.responses == nil)
    }

    @Test func entriesExpireAndTheCacheIsBounded() {
        let clock = ManualInstant()
        let cache = LocalCache<Data, Data>(ttl: .milliseconds(250), capacity: 2, now: { clock.now })
        cache.store(Data("a".utf8), for: Data("1".utf8))
        #expect(cache.lookup(Data("1".utf8)) == .fresh(Data("a".utf8)))
        clock.advance(.milliseconds(300))
        #expect(cache.lookup(Data("1".utf8)) == .miss)
        cache.store(Data("b".utf8), for: Data("2".utf8))
        cache.store(Data("c".utf8), for: Data("3".utf8))
        cache.store(Data("d".utf8), for: Data("4".utf8))  // full: starts over
        #expect(cache.lookup(Data("2".utf8)) == .miss && cache.lookup(Data("4".utf8)) == .fresh(Data("d".utf8)))
    }

    @Test func anExpiredAnswerIsRefreshedByOneCallerWhileTheOthersGetItStale() {
        let clock = ManualInstant()
        let cache = LocalCache<Data, Data>(ttl: .milliseconds(250), staleLimit: .seconds(1), now: { clock.now })
        let key = Data("view".utf8), old = Data("old".utf8), new = Data("new".utf8)
        #expect(cache.lookup(key) == .miss)
        cache.store(old, for: key)
        #expect(cache.lookup(key) == .fresh(old))
        clock.advance(.milliseconds(300))
        // The first caller after expiry refreshes; everyone after it is served the expired answer.
        #expect(cache.lookup(key) == .miss)
        #expect(cache.lookup(key) == .stale(old))
        #expect(cache.lookup(key) == .stale(old))
        cache.store(new, for: key)
        #expect(cache.lookup(key) == .fresh(new))
        // A refresher that never stores: after the stale limit the next caller takes it on.
        clock.advance(.milliseconds(300))
        #expect(cache.lookup(key) == .miss)
        clock.advance(.milliseconds(500))
        #expect(cache.lookup(key) == .stale(new))
        clock.advance(.milliseconds(600))
        // Now 1.15 s past expiry: too old to serve, every caller computes.
        #expect(cache.lookup(key) == .miss)
        #expect(cache.lookup(key) == .miss)
    }

    @Test func withoutAStaleLimitAnExpiredValueIsNeverServed() {
        // A time to live alone: every caller after expiry computes.
        let clock = ManualInstant()
        let cache = LocalCache<Data, Data>(ttl: .milliseconds(250), now: { clock.now })
        let key = Data("deal".utf8), value = Data("v".utf8)
        cache.store(value, for: key)
        #expect(cache.lookup(key) == .fresh(value))
        clock.advance(.milliseconds(260))
        #expect(cache.lookup(key) == .miss && cache.lookup(key) == .miss)
    }

    @Test func onlyCatalogueQueriesArePublic() throws {
        func isPublic(_ text: String) throws -> Bool { DocumentCache.shape(of: try parse(source: Source(body: text))).isPublic }
        #expect(try isPublic("query($id: ID!) { deal(id: $id) { id available product { name } } }"))
        #expect(try isPublic("{ deals(first: 10) { edges { node { id } } } product(id: \"p\") { name } }"))
        #expect(try !isPublic("{ myOrders(first: 5) { edges { node { id } } } }"))
        #expect(try !isPublic("{ deal(id: \"d\") { id } order(id: \"o\") { id } }"))
        #expect(try !isPublic("mutation { startDeal(id: \"d\") { __typename } }"))
        #expect(try !isPublic("query A { deal(id: \"d\") { id } } query B { product(id: \"p\") { id } }"))
        #expect(try !isPublic("{ ...F } fragment F on Query { deal(id: \"d\") { id } }"))
    }

    /// The shape one parse gives every transport: each operation's kind, the depth with fragments
    /// expanded where they are spread, the aliases.
    @Test func theShapeIsReadFromTheSyntaxTree() throws {
        func shape(_ text: String) throws -> DocumentCache.Shape { DocumentCache.shape(of: try parse(source: Source(body: text))) }
        let two = try shape("query Read { a: deal(id: \"d\") { id } b: deal(id: \"e\") { id } } mutation Buy { startDeal(id: \"d\") { __typename } }")
        #expect(two.kind(of: "Read") == .query && two.kind(of: "Buy") == .mutation && two.kind(of: nil) == nil && two.kind(of: "Other") == nil)
        #expect(two.aliases == 2 && two.depth == 2)
        let spread = try shape("{ ...F } fragment F on Query { deals { edges { node { ...G } } } } fragment G on Deal { x: product { name } }")
        #expect(spread.depth == 5 && spread.aliases == 1 && spread.kind(of: nil) == .query)
        #expect(try shape("# mutation\n{ deals { edges { node { id } } } }").kind(of: nil) == .query)
    }
}

/// The response writer against `JSONEncoder` on the same result.
@Suite struct ResponseJSONTests {
    @Test func writesWhatJSONEncoderWritesInTheFieldsOrder() throws {
        let data: Map = .dictionary([
            "deal": .dictionary([
                "id": .string("d-\"1\"\\/\n\t\u{01}é"), "available": .number(Number(98)), "price": .number(Number(99.5)),
                "ratio": .number(Number(2.0)), "live": .bool(true), "product": .null, "skipped": .undefined,
                "tags": .array([.string("a"), .number(Number(-3)), .dictionary([:])]),
            ]),
        ])
        let fast = try ResponseJSON.encode(GraphQLResult(data: data))
        let slow = try JSONEncoder().encode(GraphQLResult(data: data))
        let a = try JSONSerialization.jsonObject(with: fast) as? NSDictionary, b = try JSONSerialization.jsonObject(with: slow) as? NSDictionary
        #expect(a != nil && a == b)
        let text = String(decoding: fast, as: UTF8.self)
        #expect(text.hasPrefix(#"{"data":{"deal":{"id":"#) && text.contains(#""available":98,"price":99.5,"ratio":2,"live":true"#))
        #expect(!text.contains("skipped"))
        // Errors keep GraphQL's own shape.
        let failed = try ResponseJSON.encode(GraphQLResult(errors: [GraphQLError(message: "boom")]))
        #expect(String(decoding: failed, as: UTF8.self).contains(#""message":"boom""#))
    }
}
