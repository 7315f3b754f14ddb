import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
@testable import LiveAPI
import Logging
import Testing

/// Callers prove who they are with a verified bearer token; nothing else makes anyone a buyer or
/// an admin.
@Suite struct AuthenticationTests {
    static func app(_ authenticator: Authenticator = .development) async throws -> (some ApplicationProtocol, InMemoryShop) {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        return (Application(router: try ShopRouter(shop: memory.shop, authenticator: authenticator).router()), memory)
    }

    /// POST with `authorization` as it is; the status and the body.
    static func post(_ client: some TestClientProtocol, _ query: String, _ authorization: String?, extra: HTTPFields = [:]) async throws -> (Int, [String: Any]) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let authorization { headers[.authorization] = authorization }
        headers.append(contentsOf: extra)
        let body = try JSONSerialization.data(withJSONObject: ["query": query])
        return try await client.execute(uri: "/graphql", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
            (Int(response.status.code), try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:])
        }
    }

    static func field(_ answer: [String: Any], _ name: String) -> [String: Any]? { (answer["data"] as? [String: Any])?[name] as? [String: Any] }
    static let place = #"mutation { placeOrder(input: {dealId: "deal-sneakers", quantity: 1, idempotencyKey: "k1"}) { __typename ... on OrderPlaced { order { id } } } }"#
    static func b64(_ json: String) -> String {
        Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test func tokensThatDoNotProveTheirCallerAre401() async throws {
        let (app, _) = try await Self.app()
        let forged = "Bearer " + (try await Authenticator.token(user: "u-1", secret: "another-secret-that-is-long-enough-to-sign"))
        let expired = "Bearer " + (try await Authenticator.token(user: "u-1", ttl: .seconds(60), now: Date().addingTimeInterval(-3600)))
        let exp = Int(Date().timeIntervalSince1970) + 3600
        let none = "Bearer " + Self.b64(#"{"alg":"none","typ":"JWT"}"#) + "." + Self.b64(#"{"sub":"u-1","exp":\#(exp),"roles":["admin"]}"#) + "."
        let valid = try await Authenticator.bearer("u-1")
        let tampered = valid.split(separator: ".").enumerated().map { $0.offset == 1 ? Self.b64(#"{"sub":"u-2","exp":\#(exp)}"#) : String($0.element) }.joined(separator: ".")
        try await app.test(.router) { client in
            for (name, authorization) in [("forged", forged), ("expired", expired), ("alg none", none), ("tampered", tampered), ("not bearer", "Basic dTpw"), ("garbage", "Bearer abc")] {
                let (status, answer) = try await Self.post(client, Self.place, authorization)
                #expect(status == 401, "\(name): \(answer)")
            }
            let (status, answer) = try await Self.post(client, Self.place, valid)
            #expect(status == 200 && Self.field(answer, "placeOrder")?["__typename"] as? String == "OrderPlaced", "\(answer)")
        }
    }

    @Test func noTokenIsAnonymousAndAnonymousCannotBuy() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.router) { client in
            let (status, read) = try await Self.post(client, #"{ deal(id: "deal-sneakers") { id } }"#, nil)
            #expect(status == 200 && Self.field(read, "deal")?["id"] as? String == "deal-sneakers")
            let place = #"mutation { placeOrder(input: {dealId: "deal-sneakers", quantity: 1, idempotencyKey: "k1"}) { __typename ... on InvalidInput { field } } }"#
            let (_, order) = try await Self.post(client, place, nil)
            #expect(Self.field(order, "placeOrder")?["field"] as? String == "Authorization", "\(order)")
            // The header that once named the caller names nobody now.
            let (_, header) = try await Self.post(client, place, nil, extra: [HTTPField.Name("X-User-Id")!: "admin"])
            #expect(Self.field(header, "placeOrder")?["field"] as? String == "Authorization", "\(header)")
        }
    }

    @Test func onlyTheAdminRoleRunsAdminMutations() async throws {
        let (app, _) = try await Self.app()
        let create = #"mutation { createProduct(input: {id: "p-auth", name: "P", description: ""}) { __typename } }"#
        try await app.test(.router) { client in
            for user in ["admin", "u-1"] {
                let (_, answer) = try await Self.post(client, create, try await Authenticator.bearer(user))
                #expect(String(describing: answer["errors"] ?? "").contains("admin role"), "\(user) without the role: \(answer)")
            }
            let (_, answer) = try await Self.post(client, create, try await Authenticator.bearer("ops-7", admin: true))
            #expect(Self.field(answer, "createProduct")?["__typename"] as? String == "ProductCreated", "\(answer)")
        }
    }

    @Test func theAudienceAndIssuerAreChecked() async throws {
        let secret = "audience-test-secret-0123456789abcdef"
        let (app, _) = try await Self.app(try Authenticator.tokens(secret: secret, jwks: nil, audience: "flashdeal"))
        try await app.test(.router) { client in
            for (audience, expected) in [("flashdeal", 200), ("another-shop", 401)] as [(String?, Int)] + [(nil, 401)] {
                let token = "Bearer " + (try await Authenticator.token(user: "u-1", secret: secret, audience: audience))
                #expect(try await Self.post(client, Self.place, token).0 == expected, "aud \(audience ?? "none")")
            }
        }
    }

    /// Buyer B reaches nothing of buyer A's order: not by query, mutation, idempotent replay or
    /// subscription.
    @Test func anotherBuyersOrderIsNotFoundEverywhere() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.router) { client in
            let a = try await Authenticator.bearer("u-a"), b = try await Authenticator.bearer("u-b")
            let placedA = try await Self.post(client, Self.place, a).1
            let orderA = try #require((Self.field(placedA, "placeOrder")?["order"] as? [String: Any])?["id"] as? String)
            let placedB = try await Self.post(client, Self.place, b).1
            let orderB = try #require((Self.field(placedB, "placeOrder")?["order"] as? [String: Any])?["id"] as? String)
            #expect((try await Self.post(client, #"{ order(id: "\#(orderA)") { id } }"#, b).1["data"] as? [String: Any])?["order"] is NSNull)
            let mine = try await Self.post(client, "{ myOrders { edges { node { id } } } }", b).1
            #expect(String(describing: mine).contains(orderB) && !String(describing: mine).contains(orderA))
            let pay = #"mutation { payOrder(input: {orderId: "ORDER", idempotencyKey: "bk"}) { __typename ... on OrderPaid { order { id } } } }"#
            #expect(Self.field(try await Self.post(client, pay.replacingOccurrences(of: "ORDER", with: orderB), b).1, "payOrder")?["__typename"] as? String == "OrderPaid")
            let replay = try await Self.post(client, pay.replacingOccurrences(of: "ORDER", with: orderA), b).1
            #expect(Self.field(replay, "payOrder")?["__typename"] as? String == "OrderNotFound", "the key's replay shows nothing of A's: \(replay)")
            let cancel = try await Self.post(client, #"mutation { cancelOrder(input: {orderId: "\#(orderA)"}) { __typename } }"#, b).1
            #expect(Self.field(cancel, "cancelOrder")?["__typename"] as? String == "OrderNotFound")
            let stillA = try await Self.post(client, #"{ order(id: "\#(orderA)") { status } }"#, a).1
            #expect(Self.field(stillA, "order")?["status"] as? String == "RESERVED", "A's order untouched")
        }
    }

    @Test func theTrustedHeaderModeTakesTheGatewaysWord() async throws {
        let (app, _) = try await Self.app(.trustedHeader("X-User-Id", admins: ["ops"]))
        try await app.test(.router) { client in
            let (_, placed) = try await Self.post(client, Self.place, nil, extra: [HTTPField.Name("X-User-Id")!: "u-1"])
            #expect(Self.field(placed, "placeOrder")?["__typename"] as? String == "OrderPlaced")
            let create = #"mutation { createProduct(input: {id: "p-gw", name: "P", description: ""}) { __typename } }"#
            let (_, notAdmin) = try await Self.post(client, create, nil, extra: [HTTPField.Name("X-User-Id")!: "admin"])
            #expect(Self.field(notAdmin, "createProduct") == nil, "only the configured admins")
            let (_, admin) = try await Self.post(client, create, nil, extra: [HTTPField.Name("X-User-Id")!: "ops"])
            #expect(Self.field(admin, "createProduct")?["__typename"] as? String == "ProductCreated")
        }
    }
}

/// The WebSocket authenticates as HTTP does, and a browser's socket only from the server's origin.
@Suite struct WebSocketAuthenticationTests {
    static func app() async throws -> some ApplicationProtocol {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let router = try ShopRouter(shop: memory.shop, configuration: .init(allowedOrigins: ["https://shop.example"]))
        return Application(
            router: router.router(), server: .http1WebSocketUpgrade(webSocketRouter: router.webSocketRouter()),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func configuration(origin: String?) -> WebSocketClientConfiguration {
        var configuration = SubscriptionTests.configuration
        if let origin { configuration.additionalHeaders[.origin] = origin }
        return configuration
    }

    @Test func aBadTokenInConnectionInitClosesTheSocket() async throws {
        let app = try await Self.app()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let forged = "Bearer " + (try await Authenticator.token(user: "u-1", secret: "another-secret-that-is-long-enough-to-sign"))
            let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/graphql", configuration: Self.configuration(origin: nil), logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                try await outbound.write(.text(#"{"type":"connection_init","payload":{"Authorization":"\#(forged)"}}"#))
                for try await _ in inbound.messages(maxSize: 1 << 16) {}
            }
            #expect(close?.closeCode == .unknown(4403))
        }
    }

    @Test func anotherBuyersOrderCannotBeWatched() async throws {
        let (app, shop) = try await SubscriptionTests.app()
        guard case .placed(let order) = try await shop.placeOrder(PlaceOrderCommand(dealID: "deal-sneakers", userID: "u-a", quantity: 1, idempotencyKey: "k")) else {
            Issue.record("placed")
            return
        }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let b = try await Authenticator.bearer("u-b")
            _ = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/graphql", configuration: Self.configuration(origin: nil), logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                try await outbound.write(.text(#"{"type":"connection_init","payload":{"Authorization":"\#(b)"}}"#))
                #expect(try SubscriptionTests.json(try await messages.next())["type"] as? String == "connection_ack")
                try await outbound.write(.text(#"{"id":"w","type":"subscribe","payload":{"query":"subscription { orderUpdates(orderId: \"\#(order.id)\") { id status } }"}}"#))
                let reply = String(describing: try SubscriptionTests.json(try await messages.next()))
                #expect(reply.contains("names no order of yours") && !reply.contains("RESERVED"), "\(reply)")
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    /// A browser names the page's origin; the server's own (its `Host`) and the configured ones
    /// open, any other site's does not. Clients that are not browsers are not checked.
    @Test(arguments: [
        ("http://127.0.0.1:8080", true), ("https://shop.example", true), ("https://evil.example", false), ("http://127.0.0.1:9999", false),
        ("null", false), ("http://127.0.0.1:8080, https://evil.example", false), ("ws://127.0.0.1", true), (nil, true),
    ] as [(String?, Bool)])
    func aBrowsersSocketOpensOnlyFromAnAllowedOrigin(_ origin: String?, _ opens: Bool) throws {
        let router = try ShopRouter(shop: InMemoryShop().shop, configuration: .init(allowedOrigins: ["https://shop.example"]))
        #expect(router.allows(origin: origin, host: "127.0.0.1:8080") == opens, "\(origin ?? "no Origin")")
    }
}
