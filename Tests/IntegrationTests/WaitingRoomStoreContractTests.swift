import Domain
import DomainMemory
import LiveRedis
import Testing

/// One contract for the waiting rooms' stores: the in-memory one and Redis's sorted sets order
/// and spend alike.
@Suite struct WaitingRoomStoreContractTests {
    enum Adapter: String, CaseIterable { case memory, redis }

    static func store(_ adapter: Adapter) async throws -> any WaitingRoomStore {
        switch adapter {
        case .memory: InMemoryWaitingRoomStore()
        case .redis: try await RedisWaitingRoomStore(pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix())
        }
    }

    @Test(arguments: Adapter.allCases)
    func aQueueIsOrderedByPlaceThenByBuyerAndKeepsTheFirstPlace(_ adapter: Adapter) async throws {
        guard adapter == .memory || Backends.redisURL != nil else { return }
        let store = try await Self.store(adapter)
        let joins: [(String, Double)] = [("late-1", 1.25), ("early-b", 0.5), ("early-a", 0.5), ("early-c", 0.125), ("late-2", 2.5)]
        for (user, place) in joins { _ = try await store.join("deal-q", UserID(user), place: place) }
        var order: [String] = []
        for (user, _) in joins {
            let (rank, length) = try #require(try await store.rank("deal-q", UserID(user)))
            #expect(length == 5)
            order.append("\(rank):\(user)")
        }
        #expect(order.sorted() == ["0:early-c", "1:early-a", "2:early-b", "3:late-1", "4:late-2"], "ties by buyer id")
        let again = try await store.join("deal-q", "early-c", place: 9)
        #expect(again.rank == 0 && again.length == 5, "joining again changes nothing")
        #expect(try await store.rank("deal-q", "nobody") == nil)
        #expect(try await store.rank("deal-other", "early-c") == nil, "queues are per deal")
    }

    @Test(arguments: Adapter.allCases)
    func aTicketIsSpentOnceExceptByARetryOfTheSameOrder(_ adapter: Adapter) async throws {
        guard adapter == .memory || Backends.redisURL != nil else { return }
        let store = try await Self.store(adapter)
        #expect(try await store.spend(ticket: "t-1", deal: "deal-q", key: "k-1", ttl: .seconds(30)))
        #expect(try await store.spend(ticket: "t-1", deal: "deal-q", key: "k-1", ttl: .seconds(30)), "the same order retried")
        #expect(try await store.spend(ticket: "t-1", deal: "deal-q", key: "k-2", ttl: .seconds(30)) == false, "another order")
        #expect(try await store.spend(ticket: "t-2", deal: "deal-q", key: "k-2", ttl: .seconds(30)))
    }
}
