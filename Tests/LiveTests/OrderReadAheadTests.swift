import Domain
import DomainMemory
import Foundation
import GraphQL
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import LiveAPI
import LiveRuntime
import Synchronization
import Testing

/// `payOrder` and `cancelOrder` read the order they name while the request waits for its rate-limit
/// buckets (`ReadAheadOrders`): where the document names it, that the mutation takes that read
/// instead of asking again, once, and that a refused request changes nothing.
@Suite struct OrderReadAheadTests {
    static func reference(_ text: String) throws -> DocumentCache.OrderReference? {
        let shape = DocumentCache.shape(of: try parse(source: Source(body: text)))
        return try #require(shape.operations.first).order
    }

    @Test func theOrderIsFoundWhereverTheMutationNamesIt() throws {
        #expect(try Self.reference("mutation($in: PayOrderInput!) { payOrder(input: $in) { __typename } }") == .variable("in", field: "orderId"))
        #expect(try Self.reference(#"mutation { cancelOrder(input: {orderId: "o-7"}) { __typename } }"#) == .literal("o-7"))
        #expect(try Self.reference(#"mutation($id: ID!) { payOrder(input: {orderId: $id, idempotencyKey: "k"}) { __typename } }"#) == .variable("id", field: nil))
        // Only one money mutation written at the root: anything else runs as it always did.
        #expect(try Self.reference(#"mutation { p: payOrder(input: {orderId: "o-7", idempotencyKey: "k"}) { __typename } }"#) == nil)
        #expect(try Self.reference(#"mutation { a: cancelOrder(input: {orderId: "o-1"}) { __typename } b: cancelOrder(input: {orderId: "o-2"}) { __typename } }"#) == nil)
        #expect(try Self.reference(#"mutation { placeOrder(input: {dealId: "d", quantity: 1, idempotencyKey: "k"}) { __typename } }"#) == nil)
        #expect(try Self.reference(#"query { order(id: "o-7") { id } }"#) == nil)

        let inInput = DocumentCache.OrderReference.variable("in", field: "orderId")
        #expect(inInput.id(in: ["in": ["orderId": "o-9", "idempotencyKey": "k"]]) == "o-9")
        #expect(inInput.id(in: ["in": ["orderId": 9]]) == nil, "not a string: the mutation reports it")
        #expect(inInput.id(in: [:]) == nil)
        #expect(DocumentCache.OrderReference.variable("id", field: nil).id(in: ["id": "o-3"]) == "o-3")
    }

    /// The same parse decides which documents have their variables checked for fractional `Int`s
    /// (`AbuseLimitTests` checks the refusal itself): the money mutations' and reads' have none.
    @Test func onlyDocumentsWithAnIntVariableAreCheckedForFractions() throws {
        let router = try ShopRouter(shop: InMemoryShop().shop)
        func checked(_ query: String) throws -> Bool { try router.documents.document(query, schema: router.api.schema.schema).hasIntegerVariables }
        #expect(try checked("mutation($in: PlaceOrderInput!) { placeOrder(input: $in) { __typename } }"), "quantity: Int, inside the input")
        #expect(try checked("query($n: Int) { deals(first: $n) { edges { node { id } } } }"))
        #expect(try !checked("mutation($in: PayOrderInput!) { payOrder(input: $in) { __typename } }"))
        #expect(try !checked("query($id: ID!) { order(id: $id) { id status } }"))
        #expect(try !checked(#"mutation { placeOrder(input: {dealId: "d", quantity: 1, idempotencyKey: "k"}) { __typename } }"#), "no variables")
    }

    /// An orders port that counts the reads of each order.
    final class CountingOrders: OrderRepository {
        let base = InMemoryOrderRepository()
        let reads = Mutex<[OrderID: Int]>([:])

        func reads(of id: OrderID) -> Int { reads.withLock { $0[id, default: 0] } }
        func save(_ order: Order, expectedVersion: Int) async throws { try await base.save(order, expectedVersion: expectedVersion) }
        func order(_ id: OrderID) async throws -> Order? {
            reads.withLock { $0[id, default: 0] += 1 }
            return await base.order(id)
        }
        func orders(_ ids: [OrderID]) async throws -> [Order] { await base.orders(ids) }
        func orders(of user: UserID, after: OrderID?, limit: Int) async throws -> [Order] { await base.orders(of: user, after: after, limit: limit) }
    }

    @Test func theFirstReadOfTheOrderTakesTheReadAheadOnce() async throws {
        let counting = CountingOrders()
        let orders = ReadAheadOrders(counting)
        let order = Order(OrderPlaced(
            orderID: "o-1", dealID: "deal-1", userID: "u-1", quantity: 1, unitPrice: Money(minorUnits: 100), idempotencyKey: "k-1",
            placedAt: .seconds(10), expiresAt: .seconds(70), paymentDeadline: .seconds(60)))
        try await counting.save(order, expectedVersion: 0)
        let ahead = orders.start(order.id)
        #expect(try await ahead.take(order.id)?()?.version == 1)
        // Read ahead, then changed: the request sees the order as the read found it, once.
        let again = orders.start(order.id)
        while counting.reads(of: order.id) < 2 { await Task.yield() }
        let cancelled = try #require(order.after(.cancel, at: .seconds(11))).0
        try await counting.save(cancelled, expectedVersion: order.version)
        let (other, first, second) = try await OrderReadAhead.$current.withValue(again) { () async throws -> (Order?, Order?, Order?) in
            (try await orders.order("o-2"), try await orders.order(order.id), try await orders.order(order.id))
        }
        #expect(other == nil, "another order: asked, the read-ahead kept")
        #expect(first?.status == .reserved, "the read-ahead's answer")
        #expect(second?.status == .cancelled, "then the port again")
        #expect(counting.reads(of: order.id) == 3)
        #expect(try await orders.order(order.id)?.status == .cancelled, "outside a request: the port")
    }

    /// A port that can start a read at once (Redis's, on an event loop) is asked to; when it
    /// cannot, a task reads through the port as usual.
    @Test func aReadThePortStartsAtOnceIsTakenWithoutATask() async throws {
        let counting = CountingOrders()
        let order = Order(OrderPlaced(
            orderID: "o-1", dealID: "deal-1", userID: "u-1", quantity: 1, unitPrice: Money(minorUnits: 100), idempotencyKey: "k-1",
            placedAt: .seconds(10), expiresAt: .seconds(70), paymentDeadline: .seconds(60)))
        try await counting.save(order, expectedVersion: 0)
        let started = Mutex<[OrderID]>([])
        let orders = ReadAheadOrders(counting) { id in
            started.withLock { $0.append(id) }
            guard id == "o-1" else { return nil }
            return { @Sendable in order }
        }
        #expect(try await orders.start("o-1").take("o-1")?() == order)
        #expect(counting.reads(of: "o-1") == 0, "the port's own read answered")
        #expect(try await orders.start("o-2").take("o-2")?() == nil)
        #expect(counting.reads(of: "o-2") == 1, "it could not start one: a task read through the port")
        #expect(started.withLock { $0 } == ["o-1", "o-2"])
    }

    /// A task executor that counts the jobs it runs (on Dispatch's queues).
    final class CountingExecutor: TaskExecutor {
        let jobs = Atomic(0)
        func enqueue(_ job: consuming ExecutorJob) {
            jobs.add(1, ordering: .relaxed)
            let job = UnownedJob(job)
            DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    /// A read-ahead the port cannot start at once runs in a task on the server's task executor
    /// (``ServerTasks``), which a plain `Task` would not inherit.
    @Test func aReadAheadTaskRunsOnTheServersExecutor() async throws {
        let counting = CountingOrders()
        let orders = ReadAheadOrders(counting)
        let executor = CountingExecutor()
        let read = try await ServerTasks.$executor.withValue(executor) { try await orders.start("o-1").take("o-1")?() }
        #expect(read == nil)
        #expect(counting.reads(of: "o-1") == 1)
        #expect(executor.jobs.load(ordering: .relaxed) >= 1, "the read's task ran on the server's executor")
    }

    /// A read-ahead that failed (its connection broke) is made again through the port.
    @Test func aFailedReadAheadIsMadeAgain() async throws {
        struct Broken: Error {}
        let counting = CountingOrders()
        let order = Order(OrderPlaced(
            orderID: "o-1", dealID: "deal-1", userID: "u-1", quantity: 1, unitPrice: Money(minorUnits: 100), idempotencyKey: "k-1",
            placedAt: .seconds(10), expiresAt: .seconds(70), paymentDeadline: .seconds(60)))
        try await counting.save(order, expectedVersion: 0)
        let orders = ReadAheadOrders(counting) { _ in { @Sendable () async throws -> Order? in throw Broken() } }
        let read = try await OrderReadAhead.$current.withValue(orders.start(order.id)) { try await orders.order(order.id) }
        #expect(read == order)
        #expect(counting.reads(of: order.id) == 1, "the port's own read, once")
    }

    /// A limiter that waits, before it answers, until the order has been asked for (at most a
    /// second), and says whether it was: the read overlaps the buckets' round trip.
    actor WaitingLimiter: RateLimiter {
        let limiter = InMemoryRateLimiter()
        let orders: CountingOrders
        var watched: OrderID?
        var overlapped: [Bool] = []

        init(orders: CountingOrders) { self.orders = orders }

        func watch(_ id: OrderID) { watched = id }

        func take(_ keys: [RateLimitedKey], at now: Instant) async throws -> RateLimitRefusal? {
            if let watched {
                let before = orders.reads(of: watched)
                var waited = 0
                while orders.reads(of: watched) == before && waited < 100 {
                    try await Task.sleep(for: .milliseconds(10))
                    waited += 1
                }
                overlapped.append(orders.reads(of: watched) > before)
            }
            return await limiter.take(keys, at: now)
        }
    }

    @Test func aPaymentReadsItsOrderWhileItsBucketsAreAskedAndOnlyThen() async throws {
        let memory = InMemoryShop()
        try await DemoCatalog.seed(memory.shop, now: await memory.clock.now())
        let counting = CountingOrders()
        var ports = memory.shop.ports
        ports.orders = ReadAheadOrders(counting)
        let shop = Shop(ports: ports)
        let limiter = WaitingLimiter(orders: counting)
        let router = try ShopRouter(
            shop: shop, configuration: .init(buyerLimit: .init(rate: 100, burst: 100), addressLimit: .init(rate: 1, burst: 2), clientAddressHeader: "X-Forwarded-For"),
            rateLimiter: limiter)
        try await Application(router: router.router()).test(.router) { client in
            let place = #"mutation { placeOrder(input: {dealId: "deal-sneakers", quantity: 1, idempotencyKey: "k-1"}) { ... on OrderPlaced { order { id } } } }"#
            let placed = try await RateLimitTests.post(client, place, user: "u-1", address: "198.51.100.1").1
            let id = try #require((((placed["data"] as? [String: Any])?["placeOrder"] as? [String: Any])?["order"] as? [String: Any])?["id"] as? String)
            let order = try #require(try await counting.base.order(OrderID(validating: id)))
            await limiter.watch(order.id)
            let readsBefore = counting.reads(of: order.id)

            let pay = #"mutation($in: PayOrderInput!) { payOrder(input: $in) { __typename } }"#
            let body = try JSONSerialization.data(withJSONObject: ["query": pay, "variables": ["in": ["orderId": id, "idempotencyKey": "pay-1"]]])
            var headers: HTTPFields = [.contentType: "application/json", .authorization: try await Authenticator.bearer("u-1")]
            headers[HTTPField.Name("X-Forwarded-For")!] = "198.51.100.1"
            let paid = try await client.execute(uri: "/graphql", method: .post, headers: headers, body: ByteBuffer(bytes: body)) { response in
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
            }
            #expect(((paid["data"] as? [String: Any])?["payOrder"] as? [String: Any])?["__typename"] as? String == "OrderPaid", "\(paid)")
            #expect(await limiter.overlapped == [true], "the order was read while the buckets were asked")
            #expect(counting.reads(of: order.id) - readsBefore == 1, "and the payment took that read: one read of the order in all")

            // The address is over now (a burst of two): refused, the read dropped, nothing changed.
            let cancel = #"mutation { cancelOrder(input: {orderId: "\#(id)"}) { __typename } }"#
            #expect(try await RateLimitTests.post(client, cancel, user: "u-1", address: "198.51.100.1").0.status == .tooManyRequests)
            #expect(await counting.base.order(order.id)?.status == .paid)
            #expect(await limiter.overlapped == [true, true])
        }
    }
}
