import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWebSocket
import LiveAPI
import LiveRuntime
import Logging
import Testing

/// Subscriptions over WebSocket with `graphql-transport-ws`, on the in-memory adapters, through a
/// real WebSocket client against the running server.
@Suite struct SubscriptionTests {
    /// The demo shop on the in-memory adapters, publishing to a hub subscriptions read.
    static func shopWithHub() async throws -> (Shop, EventHub, InMemoryShop) {
        let memory = InMemoryShop()
        var ports = memory.shop.ports
        let hub = EventHub()
        ports.publisher = hub
        let shop = Shop(ports: ports)
        try await DemoCatalog.seed(shop, now: await memory.clock.now())
        return (shop, hub, memory)
    }

    static func app() async throws -> (some ApplicationProtocol, Shop) {
        let (shop, hub, _) = try await shopWithHub()
        let router = try ShopRouter(shop: shop, hub: hub)
        let app = Application(
            router: router.router(), server: .http1WebSocketUpgrade(webSocketRouter: router.webSocketRouter()),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return (app, shop)
    }

    static var configuration: WebSocketClientConfiguration {
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders[.secWebSocketProtocol] = ShopRouter.webSocketProtocol
        return configuration
    }

    static func json(_ message: WebSocketMessage?) throws -> [String: Any] {
        guard case .text(let text) = try #require(message) else { throw CancellationError() }
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func dealUpdatesArePushedAsOrdersArePlaced() async throws {
        let (app, shop) = try await Self.app()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/graphql", configuration: Self.configuration, logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                try await outbound.write(.text(#"{"type":"connection_init","payload":{"Authorization":"\#(try await Authenticator.bearer("u-1"))"}}"#))
                #expect(try Self.json(try await messages.next())["type"] as? String == "connection_ack")
                try await outbound.write(.text(#"{"type":"ping"}"#))
                #expect(try Self.json(try await messages.next())["type"] as? String == "pong")
                try await outbound.write(.text(#"""
                    {"id":"s1","type":"subscribe","payload":{"query":"subscription($d: ID!) { dealUpdates(dealId: $d) { id status available reserved sold } }","variables":{"d":"deal-sneakers"}}}
                    """#))
                let first = try Self.json(try await messages.next())
                #expect(first["id"] as? String == "s1" && first["type"] as? String == "next")
                let before = try #require(((first["payload"] as? [String: Any])?["data"] as? [String: Any])?["dealUpdates"] as? [String: Any])
                #expect(before["available"] as? Int == 100 && before["status"] as? String == "LIVE")

                let outcome = try await shop.placeOrder(PlaceOrderCommand(dealID: "deal-sneakers", userID: "u-9", quantity: 2, idempotencyKey: "k-1"))
                guard case .placed = outcome else { Issue.record("not placed: \(outcome)"); return }
                // The reservation's events arrive together; the last push shows the new counters.
                var after: [String: Any] = [:]
                while (after["reserved"] as? Int) != 2 {
                    let next = try Self.json(try await messages.next())
                    after = try #require(((next["payload"] as? [String: Any])?["data"] as? [String: Any])?["dealUpdates"] as? [String: Any])
                }
                #expect(after["available"] as? Int == 98)

                // A second subscribe with the same id while the first runs breaks the protocol: 4409.
                try await outbound.write(.text(#"{"id":"s1","type":"subscribe","payload":{"query":"subscription { dealUpdates(dealId: \"deal-sneakers\") { id } }"}}"#))
                _ = try await messages.next()
            }.map { close in #expect(close.closeCode == .unknown(4409)) }
        }
    }

    @Test func protocolViolationsCloseWithTheProtocolsCodes() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // A subscribe before connection_init: 4401.
            let unauthorised = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/graphql", configuration: Self.configuration, logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                try await outbound.write(.text(#"{"id":"1","type":"subscribe","payload":{"query":"subscription { dealUpdates(dealId: \"deal-sneakers\") { id } }"}}"#))
                for try await _ in inbound {}
            }
            #expect(unauthorised?.closeCode == .unknown(4401))
            // Not JSON: 4400.
            let invalid = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/graphql", configuration: Self.configuration, logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                try await outbound.write(.text("hello"))
                for try await _ in inbound {}
            }
            #expect(invalid?.closeCode == .unknown(4400))
        }
    }

    @Test func aSubscriptionOnAnUnknownDealIsAnErrorMessage() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/graphql", configuration: Self.configuration, logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                try await outbound.write(.text(#"{"type":"connection_init"}"#))
                _ = try await messages.next()
                try await outbound.write(.text(#"{"id":"x","type":"subscribe","payload":{"query":"subscription { dealUpdates(dealId: \"nope\") { id } }"}}"#))
                let reply = try Self.json(try await messages.next())
                // graphql-js reports a subscribe-time failure as a `next` with errors; either shape names the field.
                let text = String(describing: reply)
                #expect(reply["id"] as? String == "x" && text.contains("dealId"), "\(reply)")
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }
}

/// The broadcast's change notices: what a subscription needs of an event, as one line.
@Suite struct ChangeNoticeTests {
    @Test func aChangeTravelsAsOneLineAndComesBackWhole() throws {
        let placed = EventEnvelope(
            aggregateID: .order("o-1"), sequence: 1, occurredAt: .seconds(5),
            payload: .order(.placed(OrderPlaced(
                orderID: "o-1", dealID: "d-1", userID: "u-1", quantity: 1, unitPrice: Money(minorUnits: 100), idempotencyKey: "k",
                placedAt: .seconds(5), expiresAt: .seconds(65), paymentDeadline: .seconds(35)))))
        let change = EventHub.Change(placed)
        #expect(change == EventHub.Change(stream: .order("o-1"), deal: "d-1") && change.line == "order/o-1 d-1")
        #expect(try EventHub.Change(line: change.line[...]) == change)
        let started = EventHub.Change(stream: .payment("p-1"), deal: nil)
        #expect(try EventHub.Change(line: started.line[...]) == started)
        #expect(throws: ValidationError.self) { try EventHub.Change(line: "basket/b-1") }
        #expect(throws: ValidationError.self) { try EventHub.Change(line: "") }
    }
}
