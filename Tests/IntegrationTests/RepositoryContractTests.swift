import Domain
import DomainMemory
import Foundation
import LiveAPI
import LiveMongo
import LiveRedis
import NIOPosix
import Testing

/// The order repository and event store contracts, run against the in-memory actors and MongoDB.
@Suite struct RepositoryContractTests {
    enum Kind: String, CaseIterable, Sendable { case memory, mongo, redis }
    /// The event store's adapters.
    static var kinds: [Kind] { Backends.mongoURI == nil ? [.memory] : [.memory, .mongo] }
    /// The order store's: the live server's is Redis in front of MongoDB.
    static var orderKinds: [Kind] { Backends.allThere ? Kind.allCases : [.memory] }

    static func orders(_ kind: Kind) async throws -> any OrderRepository {
        switch kind {
        case .memory: InMemoryOrderRepository()
        case .mongo: try await MongoOrderRepository(client: try await Backends.mongo())
        case .redis:
            try await RedisOrderRepository(
                pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix(), durable: try await MongoOrderRepository(client: try await Backends.mongo()))
        }
    }

    static func events(_ kind: Kind) async throws -> any EventStore {
        switch kind {
        case .memory: InMemoryEventStore()
        case .mongo, .redis: try await MongoEventStore(client: try await Backends.mongo())
        }
    }

    static func order(_ n: Int, user: UserID, placed: Int64) -> Order {
        Order(OrderPlaced(
            orderID: OrderID("o-\(n)"), dealID: "d-1", userID: user, quantity: 1 + n % 2, unitPrice: Money(minorUnits: 9900),
            idempotencyKey: IdempotencyKey("k-\(n)"), placedAt: .seconds(placed), expiresAt: .seconds(placed + 600),
            paymentDeadline: .seconds(placed + 300)))
    }

    @Test(arguments: orderKinds)
    func ordersSaveWithOptimisticConcurrencyAndPage(_ kind: Kind) async throws {
        let repository = try await Self.orders(kind)
        var first = Self.order(1, user: "u-1", placed: 1_700_000_000)
        try await repository.save(first, expectedVersion: 0)
        await #expect(throws: VersionConflict.self) { try await repository.save(first, expectedVersion: 0) }
        let paid = first.decide(.pay, at: .seconds(1_700_000_010), paymentID: "p-1")!
        first.apply(paid, sequence: 2)
        try await repository.save(first, expectedVersion: 1)
        await #expect(throws: VersionConflict.self) { try await repository.save(first, expectedVersion: 1) }
        #expect(try await repository.order("o-1") == first)
        #expect(try await repository.order("missing") == nil)

        for n in 2...7 { try await repository.save(Self.order(n, user: n % 2 == 0 ? "u-2" : "u-1", placed: 1_700_000_000 + Int64(n / 2)), expectedVersion: 0) }
        #expect(Set(try await repository.orders(["o-1", "o-3", "nope"]).map(\.id)) == ["o-1", "o-3"])
        // u-1 holds o-1 (placed +0), o-3 (+1), o-5 (+2), o-7 (+3): newest first, two per page.
        let page1 = try await repository.orders(of: "u-1", after: nil, limit: 2).map(\.id)
        let page2 = try await repository.orders(of: "u-1", after: page1.last, limit: 2).map(\.id)
        #expect(page1 == ["o-7", "o-5"] && page2 == ["o-3", "o-1"])
        #expect(try await repository.orders(of: "u-1", after: "o-1", limit: 2).isEmpty)
        // Newest first even where the ids sort the other way (the sort's key order matters).
        try await repository.save(Self.order(9, user: "u-3", placed: 1_700_000_001), expectedVersion: 0)
        try await repository.save(Self.order(0, user: "u-3", placed: 1_700_000_009), expectedVersion: 0)
        #expect(try await repository.orders(of: "u-3", after: nil, limit: 5).map(\.id) == ["o-0", "o-9"])
    }

    static func envelope(_ stream: StreamID, _ sequence: Int, _ at: Int64 = 1) -> EventEnvelope {
        EventEnvelope(aggregateID: stream, sequence: sequence, occurredAt: .seconds(at), payload: .deal(.started(DealStarted(dealID: "d-1", at: .seconds(at)))))
    }

    @Test(arguments: kinds)
    func eventStoreAppendsIdempotentlyAndRefusesConflicts(_ kind: Kind) async throws {
        let store = try await Self.events(kind)
        let a = StreamID.deal("d-1"), b = StreamID.order("o-1")
        let placed = EventEnvelope(
            aggregateID: b, sequence: 1, occurredAt: .seconds(1),
            payload: .order(.placed(OrderPlaced(
                orderID: "o-1", dealID: "d-1", userID: "u-1", quantity: 1, unitPrice: Money(minorUnits: 1), idempotencyKey: "k",
                placedAt: .seconds(1), expiresAt: .seconds(9), paymentDeadline: .seconds(5)))))
        try await store.append([Self.envelope(a, 1), placed, Self.envelope(a, 2)], expected: .sequential)
        // The same events again (a redelivery) change nothing.
        try await store.append([Self.envelope(a, 2)], expected: .sequential)
        try await store.append([Self.envelope(a, 2)], expected: .any)
        // A different event at a taken sequence, or a gap, is a conflict.
        await #expect(throws: VersionConflict.self) { try await store.append([Self.envelope(a, 2, 99)], expected: .any) }
        await #expect(throws: VersionConflict.self) { try await store.append([Self.envelope(a, 5)], expected: .sequential) }
        try await store.append([Self.envelope(a, 3)], expected: .sequential)

        #expect(try await store.read(a, from: 2).map(\.sequence) == [2, 3])
        #expect(try await store.read(b, from: 1) == [placed])
        let all = try await store.readAll(from: 0, limit: 100)
        #expect(all.map(\.envelope.eventID) == ["deal/d-1#1", "order/o-1#1", "deal/d-1#2", "deal/d-1#3"])
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.position < $1.position })
        let rest = try await store.readAll(from: all[1].position + 1, limit: 1)
        #expect(rest.map(\.envelope.eventID) == ["deal/d-1#2"])
    }

    /// The live order store reads through to MongoDB for an order Redis does not hold (the
    /// consumer wrote it; Redis let it expire), and saves its next version.
    @Test(.enabled(if: Backends.allThere)) func redisOrdersFallBackToTheDurableStore() async throws {
        let durable = try await MongoOrderRepository(client: try await Backends.mongo())
        let pool = try await Backends.redisPool()
        let hot = try await RedisOrderRepository(pool: pool, prefix: Backends.uniquePrefix(), durable: durable)
        var order = Self.order(1, user: "u-1", placed: 1_700_000_000)
        try await durable.save(order, expectedVersion: 0)
        // A Redis that forgot its scripts (a restart, SCRIPT FLUSH) has them loaded again.
        _ = try await pool.send(["SCRIPT", "FLUSH"])
        #expect(try await hot.order("o-1") == order)
        #expect(try await hot.orders(of: "u-1", after: nil, limit: 5).map(\.id) == ["o-1"])
        order.apply(order.decide(.cancel, at: .seconds(1_700_000_001))!, sequence: 2)
        try await hot.save(order, expectedVersion: 1)
        #expect(try await hot.order("o-1")?.status == .cancelled)
        await #expect(throws: VersionConflict.self) { try await hot.save(order, expectedVersion: 1) }
    }

    /// A read started at once (`startReading`: what `ReadAheadOrders` starts on the live server)
    /// answers as `order(_:)` does: Redis's copy, else the durable store's, else nil. It is written
    /// only from an event loop that has a connection of the pool, and not on a Redis Cluster (whose
    /// routing picks the node); anywhere else the caller is told to read as usual.
    @Test(.enabled(if: Backends.allThere)) func redisOrderReadsStartAtOnceOnAnEventLoop() async throws {
        let durable = try await MongoOrderRepository(client: try await Backends.mongo())
        let pool = try await Backends.redisPool()
        let hot = try await RedisOrderRepository(pool: pool, prefix: Backends.uniquePrefix(), durable: durable)
        let placed = Self.order(1, user: "u-1", placed: 1_700_000_000), older = Self.order(2, user: "u-1", placed: 1_700_000_000)
        try await hot.save(placed, expectedVersion: 0)
        try await durable.save(older, expectedVersion: 0)
        #expect(hot.startReading("o-1") == nil, "off the event loops nothing is sent")
        if pool.isCluster {
            for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
                #expect(try await loop.submit { hot.startReading("o-1") == nil }.get(), "a cluster's reads go through its routing")
            }
            #expect(try await hot.order("o-1") == placed)
            return
        }
        // On each loop of the group in turn until one has a connection of the pool (they are
        // handed out in turn, shared with whatever else makes connections meanwhile).
        var reads: [@Sendable () async throws -> Order?] = []
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() where reads.isEmpty {
            let started = try await loop.submit { ["o-1", "o-2", "o-3"].compactMap { hot.startReading(OrderID($0)) } }.get()
            if started.count == 3 { reads = started }
        }
        try #require(reads.count == 3, "on a loop with a connection of the pool the reads start")
        #expect(try await reads[0]() == placed)
        #expect(try await reads[1]() == older, "Redis does not hold it: the durable store's")
        #expect(try await reads[2]() == nil)
    }

    // MARK: Catalogue, payments, idempotency

    static var catalogKinds: [Kind] { Backends.allThere ? Kind.allCases : [.memory] }

    static func catalog(_ kind: Kind) async throws -> any DealCatalog {
        switch kind {
        case .memory: InMemoryDealCatalog()
        case .mongo: MongoDealCatalog(client: try await Backends.mongo())
        case .redis: CachedDealCatalog(backing: MongoDealCatalog(client: try await Backends.mongo()), pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix())
        }
    }

    @Test(arguments: catalogKinds)
    func catalogStoresProductsAndPagesDeals(_ kind: Kind) async throws {
        let catalog = try await Self.catalog(kind)
        try await catalog.add(try Product(id: "p-1", name: "Kettle", description: "1.7 l"))
        let terms = try (1...5).map { n in
            try DealTerms(
                id: DealID("d-\(n)"), productID: "p-1", price: Money(minorUnits: Int64(100 * n)), startsAt: .seconds(10), endsAt: .seconds(20), perUserLimit: 2,
                reservationTTL: .seconds(60), paymentWindow: .seconds(30), initialStock: n)
        }
        for t in terms.reversed() { try await catalog.add(t) }
        #expect(try await catalog.product("p-1")?.name == "Kettle")
        #expect(try await catalog.product("nope") == nil)
        #expect(try await catalog.deal("d-3") == terms[2])
        // Read twice: the second read of a cached catalogue comes from the cache and agrees.
        #expect(Set(try await catalog.deals(["d-1", "d-4", "nope"]).map(\.id)) == ["d-1", "d-4"])
        #expect(Set(try await catalog.deals(["d-1", "d-4", "nope"]).map(\.id)) == ["d-1", "d-4"])
        #expect(try await catalog.deals(after: nil, limit: 2).map(\.id) == ["d-1", "d-2"])
        #expect(try await catalog.deals(after: "d-2", limit: 10).map(\.id) == ["d-3", "d-4", "d-5"])
        // A change invalidates the cached copy.
        try await catalog.add(try Product(id: "p-1", name: "Kettle II", description: "1.7 l"))
        #expect(try await catalog.products(["p-1"]).map(\.name) == ["Kettle II"])
    }

    static var paymentKinds: [Kind] { Backends.allThere ? [.memory, .mongo, .redis] : [.memory] }

    static func payments(_ kind: Kind) async throws -> any PaymentRepository {
        switch kind {
        case .memory: InMemoryPaymentRepository()
        case .mongo: MongoPaymentRepository(client: try await Backends.mongo())
        case .redis:
            try await RedisPaymentRepository(
                pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix(), durable: MongoPaymentRepository(client: try await Backends.mongo()))
        }
    }

    @Test(arguments: paymentKinds)
    func paymentsSaveWithOptimisticConcurrency(_ kind: Kind) async throws {
        let payments = try await Self.payments(kind)
        var payment = Payment(PaymentRequested(paymentID: "pay-1", orderID: "o-1", amount: Money(minorUnits: 500), idempotencyKey: "k", at: .seconds(1)))
        try await payments.save(payment, expectedVersion: 0)
        await #expect(throws: VersionConflict.self) { try await payments.save(payment, expectedVersion: 0) }
        #expect(try await payments.payment("pay-1") == payment)
        #expect(try await payments.payment("nope") == nil)
        payment.apply(try #require(payment.decide(.complete, at: .seconds(2))), sequence: 2)
        try await payments.save(payment, expectedVersion: 1)
        await #expect(throws: VersionConflict.self) { try await payments.save(payment, expectedVersion: 1) }
        #expect(try await payments.payment("pay-1") == payment)
        // A batch: one new, one changed, one behind.
        let second = Payment(PaymentRequested(paymentID: "pay-2", orderID: "o-2", amount: Money(minorUnits: 700), idempotencyKey: "k", at: .seconds(3)))
        var third = payment
        third.apply(try #require(third.decide(.refund, at: .seconds(4))), sequence: 3)
        let conflicts = try await payments.save([(payment: second, expectedVersion: 0), (payment: third, expectedVersion: 2), (payment: payment, expectedVersion: 1)])
        #expect(conflicts == ["pay-1"])
        #expect(Set(try await payments.payments(["pay-1", "pay-2", "nope"])) == [second, third])
    }

    static var idempotencyKinds: [Kind] { Backends.redisURL == nil ? [.memory] : [.memory, .redis] }

    @Test(arguments: idempotencyKinds)
    func idempotencyKeepsTheFirstResult(_ kind: Kind) async throws {
        let store: any IdempotencyStore = kind == .memory
            ? InMemoryIdempotencyStore() : RedisIdempotencyStore(pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix())
        let scope = IdempotencyStoreKey(operation: "payOrder", userID: "u-1", key: "k-1")
        #expect(try await store.result(for: scope) == nil)
        let first = StoredResult(outcome: "paid", subject: "o-1")
        #expect(try await store.claim(first, for: scope, at: .seconds(1)) == nil, "the first record is stored")
        #expect(try await store.claim(StoredResult(outcome: "declined", subject: "o-1"), for: scope, at: .seconds(2)) == first)
        #expect(try await store.result(for: scope) == first)
        let other = IdempotencyStoreKey(operation: "payOrder", userID: "u-2", key: "k-1")
        #expect(try await store.result(for: other) == nil)
    }

    /// Claims scoped to a deal are listed with the rest, oldest first whatever their deal, so the
    /// reconciler finds every one (Redis keeps each deal's list in the deal's hash slot and reads
    /// the list of every deal the stock ledger created); the same key in another deal is a claim of
    /// its own.
    @Test(arguments: idempotencyKinds)
    func claimsOfEveryDealAreListedTogether(_ kind: Kind) async throws {
        let at = Instant.seconds(1_700_000_000)
        let store: any IdempotencyStore
        if kind == .memory {
            store = InMemoryIdempotencyStore()
        } else {
            let pool = try await Backends.redisPool(), prefix = Backends.uniquePrefix()
            store = RedisIdempotencyStore(pool: pool, prefix: prefix)
            let ledger = try await RedisStockLedger(pool: pool, prefix: prefix)
            for deal in ["d-a", "d-b"] {
                _ = try await ledger.create(try DealTerms(
                    id: DealID(deal), productID: "p-1", price: Money(minorUnits: 500), startsAt: at, endsAt: at + .seconds(3600), perUserLimit: 2,
                    reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 10))
            }
        }
        let scopes = [
            IdempotencyStoreKey(operation: "payOrder", userID: "u-1", key: "k", dealID: "d-b"),
            IdempotencyStoreKey(operation: "payOrder", userID: "u-1", key: "k", dealID: "d-a"),
            IdempotencyStoreKey(operation: "payOrder", userID: "u-1", key: "k"),
            IdempotencyStoreKey(operation: "payOrder", userID: "u-2", key: "k", dealID: "d-b"),
        ]
        for (i, scope) in scopes.enumerated() {
            let pending = StoredResult(outcome: "pending", subject: "p-\(i)", order: "o-\(i)")
            #expect(try await store.claim(pending, for: scope, at: at + .seconds(i)) == nil, "\(scope) is a claim of its own")
        }
        #expect(try await store.result(for: scopes[1]) == StoredResult(outcome: "pending", subject: "p-1", order: "o-1"))
        #expect(try await store.pendingClaims(before: at + .seconds(10), limit: 10) == scopes)
        #expect(try await store.pendingClaims(before: at + .seconds(10), limit: 2) == Array(scopes.prefix(2)))
        try await store.settle(nil, for: scopes[0])
        #expect(try await store.pendingClaims(before: at + .seconds(10), limit: 10) == Array(scopes.dropFirst()))
    }

    /// A claim is stored once and listed as pending until it is settled; a settled claim answers
    /// with its result; a released one can be claimed again.
    @Test(arguments: idempotencyKinds)
    func claimsAreAtomicAndListedUntilSettled(_ kind: Kind) async throws {
        let store: any IdempotencyStore = kind == .memory
            ? InMemoryIdempotencyStore() : RedisIdempotencyStore(pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix())
        let at = Instant.seconds(1_700_000_000)
        let scopes = (0..<3).map { IdempotencyStoreKey(operation: "payOrder", userID: UserID("u-\($0)"), key: "k") }
        let pending = StoredResult(outcome: "pending", subject: "p-1", order: "o-1")
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<20 {
                group.addTask { try await store.claim(StoredResult(outcome: "pending", subject: "p-\(n)", order: "o-1"), for: scopes[0], at: at) == nil }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1, "one of twenty concurrent claims wins")
        #expect(try await store.claim(pending, for: scopes[1], at: at + .seconds(1)) == nil)
        #expect(try await store.claim(pending, for: scopes[2], at: at + .seconds(2)) == nil)
        #expect(try await store.claim(StoredResult(outcome: "pending", subject: "p-9"), for: scopes[1], at: at + .seconds(5)) == pending)
        #expect(try await store.pendingClaims(before: at + .seconds(2), limit: 10) == [scopes[0], scopes[1]], "oldest first, before the instant")
        #expect(try await store.pendingClaims(before: at + .seconds(3), limit: 2) == [scopes[0], scopes[1]])

        let paid = StoredResult(outcome: "paid", subject: "o-1", order: "o-1")
        try await store.settle(paid, for: scopes[1])
        #expect(try await store.result(for: scopes[1]) == paid)
        #expect(try await store.claim(pending, for: scopes[1], at: at + .seconds(9)) == paid)
        try await store.settle(nil, for: scopes[2])
        #expect(try await store.result(for: scopes[2]) == nil)
        #expect(try await store.pendingClaims(before: at + .seconds(60), limit: 10) == [scopes[0]])
        #expect(try await store.claim(pending, for: scopes[2], at: at + .seconds(10)) == nil, "a released scope is claimed again")
    }
}
