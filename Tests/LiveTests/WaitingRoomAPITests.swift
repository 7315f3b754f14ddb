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
import Synchronization
import Testing

/// A deal with a waiting room, through the API: the early crowd drawn at random, later arrivals in
/// order, buyers let through at the rate, and `placeOrder` only with a good, unspent ticket.
@Suite struct WaitingRoomAPITests {
    /// The shop on the in-memory adapters, its clock 60 s before a waiting-room deal starts
    /// (`deal-wr`: one buyer a second, tickets good for 30 s), with early buyers drawn in the order
    /// of `draws`.
    static func app(draws: [Double]) async throws -> (some ApplicationProtocol, InMemoryShop, Shop) {
        let (shop, hub, memory) = try await SubscriptionTests.shopWithHub()
        let sequence = Mutex(draws)
        let room = WaitingRoomAccess(
            store: InMemoryWaitingRoomStore(), tickets: AdmissionTickets(secret: Authenticator.developmentSecret), clock: memory.clock,
            draw: { sequence.withLock { $0.isEmpty ? 0.5 : $0.removeFirst() } })
        let router = try ShopRouter(shop: shop, hub: hub, waitingRoom: room)
        let now = await memory.clock.now()
        let schedule = try DealTerms(
            id: "deal-wr", productID: "sneakers-270", price: Money(minorUnits: 1000), startsAt: now + .seconds(60), endsAt: now + .seconds(3600),
            perUserLimit: 2, reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 10,
            waitingRoom: try WaitingRoomPolicy(admissionRate: 1, ticketTTL: .seconds(30)))
        _ = try await shop.scheduleDeal(schedule)
        let app = Application(
            router: router.router(), server: .http1WebSocketUpgrade(webSocketRouter: router.webSocketRouter()),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return (app, memory, shop)
    }

    static let standing = "dealId position queueLength drawn admitted admittedAt admissionTicket"
    static let join = "mutation { joinWaitingRoom(dealId: \"deal-wr\") { __typename ... on WaitingRoomStanding { \(standing) } } }"
    static let read = "{ waitingRoom(dealId: \"deal-wr\") { \(standing) } }"
    static let place = """
        mutation($key: String!, $ticket: String) { placeOrder(input: {dealId: "deal-wr", quantity: 1, idempotencyKey: $key, admissionTicket: $ticket}) {
          __typename ... on OrderPlaced { order { id } } ... on AdmissionRequired { reason } } }
        """

    static func data(_ answer: [String: Any], _ field: String) -> [String: Any] {
        (answer["data"] as? [String: Any])?[field] as? [String: Any] ?? [:]
    }

    @Test func buyersAreLetThroughInTheDrawnOrderAndOrderOnlyWithAGoodTicket() async throws {
        let (app, memory, shop) = try await Self.app(draws: [0.9, 0.1, 0.5])
        try await app.test(.router) { client in
            func post(_ query: String, _ user: String?, _ variables: [String: Any] = [:]) async throws -> [String: Any] {
                try await GraphQLAPITests.post(client, query, user: user, variables: variables)
            }
            let deal = try await post(#"{ deal(id: "deal-wr") { waitingRoom { admissionRate ticketTtlSeconds } } }"#, nil)
            #expect(String(describing: deal).contains("admissionRate\": 1") || String(describing: deal).contains("admissionRate: 1"), "\(deal)")
            for user in ["u-1", "u-2", "u-3"] {
                #expect(Self.data(try await post(Self.join, user), "joinWaitingRoom")["__typename"] as? String == "WaitingRoomStanding")
            }
            let early = Self.data(try await post(Self.read, "u-2"), "waitingRoom")
            #expect(early["position"] as? Int == 1 && early["drawn"] as? Bool == false && early["admissionTicket"] is NSNull, "\(early)")
            #expect(Self.data(try await post(Self.place, "u-2", ["key": "k-0"]), "placeOrder")["__typename"] as? String == "AdmissionRequired")

            await memory.clock.advance(by: .seconds(60))
            _ = try await shop.runSchedule()
            // Drawn: u-2 (0.1), u-3 (0.5), u-1 (0.9); at the start the first is through.
            let first = Self.data(try await post(Self.read, "u-2"), "waitingRoom")
            let ticket = try #require(first["admissionTicket"] as? String, "\(first)")
            #expect(first["admitted"] as? Bool == true && first["drawn"] as? Bool == true)
            #expect(Self.data(try await post(Self.read, "u-3"), "waitingRoom")["position"] as? Int == 1)
            #expect(Self.data(try await post(Self.read, "u-1"), "waitingRoom")["position"] as? Int == 2)
            #expect(Self.data(try await post(Self.read, "u-3"), "waitingRoom")["admissionTicket"] is NSNull, "not through yet: no ticket")
            let late = Self.data(try await post(Self.join, "u-4"), "joinWaitingRoom")
            #expect(late["position"] as? Int == 3 && late["queueLength"] as? Int == 4, "after the start: behind the drawn crowd")

            func placed(_ user: String, _ key: String, _ ticket: String?) async throws -> [String: Any] {
                Self.data(try await post(Self.place, user, ["key": key, "ticket": ticket ?? NSNull()]), "placeOrder")
            }
            let missing = try await placed("u-2", "k-1", nil)
            #expect(missing["__typename"] as? String == "AdmissionRequired" && (missing["reason"] as? String)?.contains("join it") == true)
            let borrowed = try await placed("u-3", "k-1", ticket)
            #expect((borrowed["reason"] as? String)?.contains("another buyer") == true, "\(borrowed)")
            let forged = try await placed("u-2", "k-1", ticket.dropLast(2) + "xx")
            #expect((forged["reason"] as? String)?.contains("not one this shop signed") == true, "\(forged)")
            let order = try #require((try await placed("u-2", "k-1", ticket)["order"] as? [String: Any])?["id"] as? String)
            #expect((try await placed("u-2", "k-1", ticket)["order"] as? [String: Any])?["id"] as? String == order, "a retry of the same order")
            let spent = try await placed("u-2", "k-2", ticket)
            #expect((spent["reason"] as? String)?.contains("used for another order") == true, "\(spent)")

            let fresh = try #require(Self.data(try await post(Self.read, "u-2"), "waitingRoom")["admissionTicket"] as? String)
            await memory.clock.advance(by: .seconds(31))
            let expired = try await placed("u-2", "k-3", fresh)
            #expect((expired["reason"] as? String)?.contains("expired") == true, "\(expired)")
            #expect(Self.data(try await post(Self.read, "u-3"), "waitingRoom")["admitted"] as? Bool == true, "31 s in, the next ones are through")
            let plain = Self.data(try await post(#"mutation { joinWaitingRoom(dealId: "deal-sneakers") { __typename } }"#, "u-1"), "joinWaitingRoom")
            #expect(plain["__typename"] as? String == "NoWaitingRoom")
        }
    }

    @Test func theStandingIsPushedUntilTheBuyerIsThrough() async throws {
        let (app, memory, shop) = try await Self.app(draws: [0.1, 0.2, 0.3])
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // u-1 and u-2 ahead (drawn 0.1, 0.2), then u-3 (0.3): at the start u-3 is third.
            for user in ["u-1", "u-2", "u-3"] {
                _ = try await client.execute(
                    uri: "/graphql", method: .post,
                    headers: [.contentType: "application/json", .authorization: try await Authenticator.bearer(user)],
                    body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["query": Self.join]))) { #expect($0.status == .ok) }
            }
            await memory.clock.advance(by: .seconds(60))
            _ = try await shop.runSchedule()
            let bearer = try await Authenticator.bearer("u-3")
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/graphql", configuration: SubscriptionTests.configuration, logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                try await outbound.write(.text(#"{"type":"connection_init","payload":{"Authorization":"\#(bearer)"}}"#))
                _ = try await messages.next()
                try await outbound.write(.text(#"{"id":"w","type":"subscribe","payload":{"query":"subscription { waitingRoomUpdates(dealId: \"deal-wr\") { position admitted admissionTicket } }"}}"#))
                var positions: [Int] = []
                var ticket: String?
                while true {
                    let message = try SubscriptionTests.json(try await messages.next())
                    if message["type"] as? String == "complete" { break }
                    let standing = try #require(((message["payload"] as? [String: Any])?["data"] as? [String: Any])?["waitingRoomUpdates"] as? [String: Any], "\(message)")
                    positions.append(try #require(standing["position"] as? Int))
                    ticket = standing["admissionTicket"] as? String
                    await memory.clock.advance(by: .seconds(1))
                }
                #expect(positions == [2, 1, 0], "pushed as the queue moves, the last one through")
                #expect(ticket != nil, "the last push carries a ticket")
            }
        }
    }
}
