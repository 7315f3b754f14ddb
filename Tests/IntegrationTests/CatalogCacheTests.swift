import Domain
import DomainMemory
import LiveRedis
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
        let termReads = Atomic(0)
        let failing = Atomic(false)
        struct Down: Error {}

        func add(_ product: Product) async throws { try await catalog.add(product) }
        func add(_ terms: DealTerms) async throws { try await catalog.add(terms) }
        func product(_ id: ProductID) async throws -> Product? { try await catalog.product(id) }
        func products(_ ids: [ProductID]) async throws -> [Product] { try await catalog.products(ids) }
        func deal(_ id: DealID) async throws -> DealTerms? { try await catalog.deal(id) }
        func deals(_ ids: [DealID]) async throws -> [DealTerms] {
            termReads.add(1, ordering: .relaxed)
            if failing.load(ordering: .relaxed) { throw Down() }
            return try await catalog.deals(ids)
        }
        func deals(after: DealID?, limit: Int) async throws -> [DealTerms] {
            reads.add(1, ordering: .relaxed)
            if failing.load(ordering: .relaxed) { throw Down() }
            return try await catalog.deals(after: after, limit: limit)
        }
    }

    static func terms(_ id: String) throws -> DealTerms {
        let now = Instant(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
        return try DealTerms(
            id: DealID(validating: id, field: "id"), productID: "p", price: Money(minorUnits: 100), startsAt: now, endsAt: now + .seconds(60),
            perUserLimit: 1, reservationTTL: .seconds(60), paymentWindow: .seconds(30), initialStock: 5)
    }

    /// A deal's terms with their Redis copy gone (its time to live ran out) and MongoDB failing:
    /// the requests of a running sale are served the terms this process last read, and one of them
    /// a time to live asks MongoDB again. Without a copy here, the failure is the caller's.
    @Test func aDealsTermsAreServedAsTheyWereWhileTheirRefreshFails() async throws {
        let backing = Backing()
        let pool = try await Backends.redisPool(), prefix = Backends.uniquePrefix()
        let cached = CachedDealCatalog(backing: backing, pool: pool, prefix: prefix, localTTL: .milliseconds(50), staleLimit: .seconds(30))
        try await cached.add(try Product(id: "p", name: "Kettle", description: ""))
        try await cached.add(try Self.terms("d-1"))
        #expect(try await cached.deal("d-1")?.id == "d-1" && backing.termReads.load(ordering: .relaxed) == 1)
        _ = try await pool.send(["DEL", "\(prefix):cache:deal:{d-1}"])
        backing.failing.store(true, ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(80))
        // A crowd after expiry: one refreshes (and fails), every one of them gets the terms.
        let served = try await withThrowingTaskGroup(of: DealID?.self) { group in
            for _ in 0..<8 { group.addTask { try await cached.deal("d-1")?.id } }
            return try await group.reduce(into: [DealID?]()) { $0.append($1) }
        }
        #expect(served == Array(repeating: "d-1", count: 8))
        #expect(backing.termReads.load(ordering: .relaxed) == 2, "one refresh, not one a request")
        try await Task.sleep(for: .milliseconds(80))
        #expect(try await cached.deals(["d-1"]).map(\.id) == ["d-1"])
        #expect(backing.termReads.load(ordering: .relaxed) == 3)
        try await cached.add(try Self.terms("d-2"))
        await #expect(throws: Backing.Down.self) { _ = try await cached.deal("d-2") }
    }

    @Test func anExpiredPageIsServedWhileItsRefreshFails() async throws {
        let backing = Backing()
        let cached = CachedDealCatalog(
            backing: backing, pool: try await Backends.redisPool(), prefix: Backends.uniquePrefix(),
            localTTL: .milliseconds(50), staleLimit: .seconds(30))
        try await cached.add(try Product(id: "p", name: "Kettle", description: ""))
        try await cached.add(try Self.terms("d-1"))
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
        try await cached.add(try Self.terms("d-2"))
        #expect(try await cached.deals(after: nil, limit: 10).map(\.id) == ["d-1", "d-2"])
    }
}
