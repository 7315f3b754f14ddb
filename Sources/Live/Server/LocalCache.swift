import Synchronization

/// A small in-process cache, each value kept for `ttl`: the catalogue's decoded terms and pages
/// (`CachedDealCatalog`) and public queries' answers (`ShopRouter`). Bounded: when full it starts
/// over, so callers sending endless distinct keys cost memory only up to `capacity`.
final class LocalCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Entry: Sendable {
        let expires: ContinuousClock.Instant
        let value: Value
    }

    let ttl: Duration
    private let entries = Mutex([Key: Entry]())
    private let capacity: Int
    /// The time entries expire by (tests give their own).
    private let now: @Sendable () -> ContinuousClock.Instant

    init(ttl: Duration, capacity: Int = 4096, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.ttl = ttl
        self.capacity = capacity
        self.now = now
    }

    func value(_ key: Key) -> Value? {
        let now = now()
        return entries.withLock { entries in
            guard let entry = entries[key], entry.expires > now else { return nil }
            return entry.value
        }
    }

    func store(_ value: Value, for key: Key) {
        guard ttl > .zero else { return }
        let entry = Entry(expires: now() + ttl, value: value)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
    }

    func remove(_ key: Key) { _ = entries.withLock { $0.removeValue(forKey: key) } }

    func removeAll(where matches: (Key) -> Bool) {
        entries.withLock { entries in for key in entries.keys where matches(key) { entries.removeValue(forKey: key) } }
    }
}
