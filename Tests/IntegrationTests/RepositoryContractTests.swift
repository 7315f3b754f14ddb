import Domain
import DomainMemory
import Foundation
import Live
import Testing

/// The order repository and event store contracts, run against the in-memory actors and MongoDB.
@Suite struct RepositoryContractTests {
    enum Kind: String, CaseIterable, Sendable { case memory, mongo }
    static var kinds: [Kind] { Backends.mongoURI == nil ? [.memory] : Kind.allCases }

    static func orders(_ kind: Kind) async throws -> any OrderRepository {
        switch kind {
        case .memory: InMemoryOrderRepository()
        case .mongo: try await MongoOrderRepository(client: try await Backends.mongo())
        }
    }

    static func events(_ kind: Kind) async throws -> any EventStore {
        switch kind {
        case .memory: InMemoryEventStore()
        case .mongo: try await MongoEventStore(client: try await Backends.mongo())
        }
    }

    static func order(_ n: Int, user: UserID, placed: Int64) -> Order {
        Order(OrderPlaced(
            orderID: OrderID("o-\(n)"), dealID: "d-1", userID: user, quantity: 1 + n % 2, unitPrice: Money(minorUnits: 9900),
            idempotencyKey: IdempotencyKey("k-\(n)"), placedAt: .seconds(placed), expiresAt: .seconds(placed + 600),
            paymentDeadline: .seconds(placed + 300)))
    }

    @Test(arguments: kinds)
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
}
