import Domain
import DomainMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LiveAPI
import Logging
import Synchronization
import Testing

/// The limits a hostile document meets, on the parsed document, before anything runs; and what a
/// client is told when something inside fails.
@Suite struct AbuseLimitTests {
    static func messages(_ answer: [String: Any]) -> [String] { (answer["errors"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String } }

    static func app(_ configuration: ShopRouter.Configuration = .init(), logger: Logger = Logger(label: "test")) async throws -> (some ApplicationProtocol, InMemoryShop) {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        return (Application(router: try ShopRouter(shop: memory.shop, configuration: configuration, logger: logger).router()), memory)
    }

    /// POST, whatever the status.
    static func post(_ client: some TestClientProtocol, _ query: String, variables: [String: Any] = [:]) async throws -> (Int, [String: Any]) {
        let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        return try await client.execute(
            uri: "/graphql", method: .post, headers: [.contentType: "application/json", .authorization: try await Authenticator.bearer("u-1")], body: ByteBuffer(bytes: body)
        ) { response in
            (Int(response.status.code), try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:])
        }
    }

    @Test func eightHundredAliasedCancelsAreRefusedBeforeAnyRuns() async throws {
        let (app, memory) = try await Self.app()
        try await app.test(.router) { client in
            let placed = try await GraphQLAPITests.post(client, GraphQLAPITests.place, variables: ["key": "k1", "q": 1])
            let id = try #require((((placed["data"] as? [String: Any])?["placeOrder"] as? [String: Any])?["order"] as? [String: Any])?["id"] as? String)
            let aliased = "mutation { " + (0..<800).map { "c\($0): cancelOrder(input: {orderId: \"\(id)\"}) { __typename }" }.joined(separator: " ") + " }"
            let (status, answer) = try await Self.post(client, aliased)
            #expect(status == 400 && Self.messages(answer) == ["query uses 800 aliases; at most 15 are allowed"], "\(answer)")
            let order = try #require(try await memory.orders.order(OrderID(generated: id)))
            #expect(order.status == .reserved, "nothing ran")
            let fifteen = "{ " + (0..<15).map { "d\($0): deal(id: \"deal-sneakers\") { id }" }.joined(separator: " ") + " }"
            #expect(try await Self.post(client, fifteen).0 == 200)
        }
    }

    @Test func anExpensiveDocumentIsRefusedByItsEstimatedCost() async throws {
        let (app, _) = try await Self.app()
        try await app.test(.router) { client in
            let node = "id status price currency startsAt endsAt perUserLimit available reserved sold product { id name description }"
            // 1 + 100 × (edges, node and 14 fields below) = 1,601: a full page of everything, allowed.
            let page = try await Self.post(client, "query($n: Int) { deals(first: $n) { edges { node { \(node) } } } }", variables: ["n": 100])
            #expect(page.0 == 200 && Self.messages(page.1).isEmpty, "\(page.1)")
            let twoPages = try await Self.post(client, "{ a: deals(first: 100) { edges { node { \(node) } } } b: deals(first: 100) { edges { node { \(node) } } } }")
            #expect(twoPages.0 == 400 && Self.messages(twoPages.1) == ["query costs an estimated 3202 (fields, times the pages they ask for); at most 2000 is allowed"], "\(twoPages.1)")
        }
    }

    @Test func introspectionIsAnsweredOnlyWhenItIsOn() async throws {
        let query = "query { ...Schema } fragment Schema on Query { __schema { queryType { name } } }"
        let (closed, _) = try await Self.app(.init(introspection: false))
        try await closed.test(.router) { client in
            let (status, answer) = try await Self.post(client, query)
            #expect(status == 400 && Self.messages(answer) == ["query asks for the schema, and introspection is off on this server"], "\(answer)")
            let typename = try await Self.post(client, "{ __typename deal(id: \"deal-sneakers\") { __typename id } }")
            #expect(typename.0 == 200, "__typename is not introspection")
        }
        let (open, _) = try await Self.app(.init(introspection: true))
        try await open.test(.router) { client in
            let (status, answer) = try await Self.post(client, query)
            #expect(status == 200 && (((answer["data"] as? [String: Any])?["__schema"] as? [String: Any])?["queryType"] as? [String: Any])?["name"] as? String == "Query")
        }
    }

    @Test func aFractionalIntIsRefusedOnEveryPath() async throws {
        let (app, memory) = try await Self.app()
        try await app.test(.router) { client in
            let direct = try await Self.post(client, GraphQLAPITests.place, variables: ["key": "k-frac", "q": 1.99])
            #expect(direct.0 == 400 && Self.messages(direct.1) == ["$q must be an integer (Int), found 1.99"], "\(direct.1)")
            let nested = try await Self.post(
                client, "mutation($in: PlaceOrderInput!) { placeOrder(input: $in) { __typename } }",
                variables: ["in": ["dealId": "deal-sneakers", "quantity": 1.5, "idempotencyKey": "k-frac2"]])
            #expect(nested.0 == 400 && Self.messages(nested.1) == ["$in.quantity must be an integer (Int), found 1.5"], "\(nested.1)")
            let page = try await Self.post(client, "query($n: Int) { deals(first: $n) { edges { node { id } } } }", variables: ["n": 2.5])
            #expect(page.0 == 400, "\(page.1)")
            let stock = try #require(try await memory.ledger.stock("deal-sneakers"))
            #expect(stock.inventory.reserved == 0, "nothing was ordered")
            let whole = try await Self.post(client, GraphQLAPITests.place, variables: ["key": "k-whole", "q": 2.0])
            #expect(whole.0 == 200 && Self.messages(whole.1).isEmpty, "2.0 is an integer: \(whole.1)")
        }
    }

    /// A backend's error text (its host and port) never reaches the client; the log has it under
    /// the id the client was given.
    @Test func anInternalErrorReachesTheClientAsARequestId() async throws {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        var ports = memory.shop.ports
        ports.orders = BrokenOrders()
        let lines = Lines()
        let logger = Logger(label: "test") { _ in Recorder(lines: lines) }
        let app = Application(router: try ShopRouter(shop: Shop(ports: ports), logger: logger).router())
        try await app.test(.router) { client in
            let (status, answer) = try await Self.post(client, "{ order(id: \"o-1\") { id } }")
            let message = try #require(Self.messages(answer).first)
            #expect(status == 200 && message.hasPrefix("internal error (request ") && !message.contains("10.0.0.7"), "\(answer)")
            let id = String(message.dropFirst("internal error (request ".count).dropLast())
            #expect(lines.all.contains { $0.contains(id) && $0.contains("10.0.0.7:6379") }, "\(lines.all)")
        }
    }
}

/// An order store whose backend is gone.
struct BrokenOrders: OrderRepository {
    struct Down: Error, CustomStringConvertible { var description: String { "cannot connect to Redis at 10.0.0.7:6379: connection refused" } }
    func save(_ order: Order, expectedVersion: Int) async throws { throw Down() }
    func order(_ id: OrderID) async throws -> Order? { throw Down() }
    func orders(_ ids: [OrderID]) async throws -> [Order] { throw Down() }
    func orders(of user: UserID, after: OrderID?, limit: Int) async throws -> [Order] { throw Down() }
}

/// Keeps every log line, with its metadata.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

struct Recorder: LogHandler {
    let lines: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lines.append("\(message) \((metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))")
    }
}
