import Domain
import DomainMemory
import Live
import Synchronization
import Testing

/// The catalogue's deal pages when the backing catalogue (MongoDB) fails: one request a page tries
/// the refresh, and every request, that one too, is answered with the page as it was.
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
        func terms(_ id: String) throws -> DealTerms {
            try DealTerms(
                id: DealID(validating: id, field: "id"), productID: "p", price: Money(minorUnits: 100), startsAt: now, endsAt: now + .seconds(60),
                perUserLimit: 1, reservationTTL: .seconds(60), paymentWindow: .seconds(30), initialStock: 5)
        }
        try await cached.add(try Product(id: "p", name: "Kettle", description: ""))
        try await cached.add(try terms("d-1"))
        let page = try await cached.deals(after: nil, limit: 10)
        #expect(page.map(\.id) == ["d-1"] && backing.reads.load(ordering: .relaxed) == 1)
        try await Task.sleep(for: .milliseconds(80))
        backing.failing.store(true, ordering: .relaxed)
        // The first request after expiry refreshes, meets the failure and gets the page as it was;
        // so do the next ones, without asking the failing catalogue again.
        for _ in 0..<6 { #expect(try await cached.deals(after: nil, limit: 10).map(\.id) == ["d-1"]) }
        #expect(backing.reads.load(ordering: .relaxed) == 2, "one refresh, not one a request")
        // One local time to live later one request tries again, and still gets the page.
        try await Task.sleep(for: .milliseconds(80))
        for _ in 0..<6 { #expect(try await cached.deals(after: nil, limit: 10).map(\.id) == ["d-1"]) }
        #expect(backing.reads.load(ordering: .relaxed) == 3)
        // A page never read has nothing to fall back on: its failure is the caller's.
        await #expect(throws: Backing.Down.self) { _ = try await cached.deals(after: "d-1", limit: 10) }
        // Back up: the next refresh stores the new page.
        backing.failing.store(false, ordering: .relaxed)
        try await cached.add(try terms("d-2"))
        #expect(try await cached.deals(after: nil, limit: 10).map(\.id) == ["d-1", "d-2"])
    }
}
