/// A per-request DataLoader: loads values by key through one batch function, caches them for the
/// request, and lets a list resolver prime the cache for the whole page, so the nested fields of
/// a page (deal → product, order → deal) cost one backend call, not one per row.
public actor BatchLoader<Key: Hashable & Sendable, Value: Sendable> {
    private let batch: @Sendable ([Key]) async throws -> [Key: Value]
    private var cache: [Key: Value?] = [:]
    /// Backend calls made (tests prove the N+1 is gone with it).
    public private(set) var batches = 0

    public init(_ batch: @escaping @Sendable ([Key]) async throws -> [Key: Value]) {
        self.batch = batch
    }

    /// Loads every key not cached yet in one batch call.
    public func prime(_ keys: [Key]) async throws {
        var seen = Set<Key>()
        let missing = keys.filter { cache[$0] == nil && seen.insert($0).inserted }
        guard !missing.isEmpty else { return }
        batches += 1
        let loaded = try await batch(missing)
        for key in missing { cache[key] = .some(loaded[key]) }
    }

    public func load(_ key: Key) async throws -> Value? {
        if let cached = cache[key] { return cached }
        try await prime([key])
        return cache[key] ?? nil
    }
}
