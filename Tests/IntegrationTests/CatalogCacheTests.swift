import Domain
import DomainMemory
import Live
import Synchronization
import Testing

/// The catalogue's deal pages when the backing catalogue (MongoDB) fails: one request a page pays
/// for the refresh, the others are answered with the page as it was.
@Suite(.enabled(if: Backends.redisURL != nil))
struct CatalogCacheTests {
    /// The in-memory catalogue, counting page reads, failing them when told.
    final class Backing: DealCatalog {
        let catalog = InMemoryDealCatalog()
        let reads = Atomic(0)
        let failing = Atomic(false)
        struct Down: Error {}

        func add(_ product: Product) async throws { try await catalog.add(product) }
        func add(_ terms: DealTerms) async throws { try await catalog.add(terms) }
        func product(_ id: ProductID) async throws -> Product? { try await catalog.product(id) }
        func products(_ ids: [ProductID]) async throws -> [Product] { try await catalog.products(ids) }
        func deal(_ id: DealID) async throws -> DealTerms? { try await catalog.deal(id) }
        func deals(_ ids: [DealID]) async throws -> [DealTerms] { try await catalog.deals(ids) }
        func deals(after: DealID?, limit: Int) async throws -> [DealTerms] {
            reads.add(1, ordering: .relaxed)
            if failing.load(ordering: .relaxed) { throw Down() }
            return try await catalog.deals(after: after, limit: limit)
        }
    }

    @Test func anExpiredPageIsServedWhileItsRefreshFails() async throws {
        let backing = Backing()
        let cached = CachedDealCatalog(
            backing: backing, pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix(),
            localTTL: .milliseconds(50), pageStaleLimit: .seconds(30))
        let now = Instant(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
        try await cached.add(try Product(id: "p", name: "Kettle", description: ""))
        try await cached.add(try DealTerms(
            id: "d-1", productID: "p", price: Money(minorUnits: 100), startsAt: now, endsAt: now + .seconds(60), perUserLimit: 1,
            reservationTTL: .seconds(60), paymentWindow: .seconds(30), initialStock: 5))
        let page = try await cached.deals(after: nil, limit: 10)
        #expect(page.map(\.id) == ["d-1"] && backing.reads.load(ordering: .relaxed) == 1)
        try await Task.sleep(for: .milliseconds(80))
        backing.failing.store(true, ordering: .relaxed)
        // The first request after expiry refreshes and meets the failure; the next ones get the page.
        await #expect(throws: Backing.Down.self) { _ = try await cached.deals(after: nil, limit: 10) }
        for _ in 0..<5 { #expect(try await cached.deals(after: nil, limit: 10).map(\.id) == ["d-1"]) }
        #expect(backing.reads.load(ordering: .relaxed) == 2, "one refresh, not one a request")
        // Back up: once the page is refreshed, it is fresh again.
        backing.failing.store(false, ordering: .relaxed)
        try await cached.add(try DealTerms(
            id: "d-2", productID: "p", price: Money(minorUnits: 100), startsAt: now, endsAt: now + .seconds(60), perUserLimit: 1,
            reservationTTL: .seconds(60), paymentWindow: .seconds(30), initialStock: 5))
        #expect(try await cached.deals(after: nil, limit: 10).map(\.id) == ["d-1", "d-2"])
    }
}
