import Synchronization

/// A small in-process cache, each value kept for `ttl`: the catalogue's decoded terms and pages
/// (`CachedDealCatalog`) and public queries' answers (`ShopRouter`). Bounded: when full it starts
/// over, so callers sending endless distinct keys cost memory only up to `capacity`.
package final class LocalCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Entry: Sendable {
        let expires: ContinuousClock.Instant
        let value: Value
        /// Whether a caller of `lookup` took on refreshing the expired value.
        var refreshing = false
    }

    /// What `lookup` found.
    package enum Lookup: Sendable {
        /// A value within its time to live.
        case fresh(Value)
        /// An expired value another caller is refreshing: serve it.
        case stale(Value)
        /// Nothing to serve: compute the value (and `store` it).
        case miss

        /// The value to serve, fresh or stale; nil on a miss.
        package var value: Value? {
            switch self {
            case .fresh(let value), .stale(let value): value
            case .miss: nil
            }
        }
    }

    package let ttl: Duration
    /// How long past its expiry a value may still be served while one caller refreshes it.
    package let staleLimit: Duration
    private let entries = Mutex([Key: Entry]())
    private let capacity: Int
    /// The time entries expire by (tests give their own).
    private let now: @Sendable () -> ContinuousClock.Instant

    package init(
        ttl: Duration, staleLimit: Duration = .zero, capacity: Int = 4096,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.ttl = ttl
        self.staleLimit = staleLimit
        self.capacity = capacity
        self.now = now
    }

    /// Stale-while-revalidate (what HTTP caches call `stale-while-revalidate`, and nginx
    /// `proxy_cache_use_stale updating`): when a hot value expires, the first caller is told to
    /// refresh it and every caller until it stores the new value gets the expired one, instead of
    /// all of them computing it at once. A value expired more than `staleLimit` ago is not served:
    /// if the refresh never stores (its answer was not cacheable, or it failed), the others get the
    /// expired value until then and every caller computes after. Values are therefore at most
    /// `ttl + staleLimit` old.
    package func lookup(_ key: Key) -> Lookup {
        let now = now()
        return entries.withLock { entries in
            guard var entry = entries[key] else { return .miss }
            if entry.expires > now { return .fresh(entry.value) }
            guard now < entry.expires + staleLimit else { return .miss }
            if entry.refreshing { return .stale(entry.value) }
            entry.refreshing = true
            entries[key] = entry
            return .miss
        }
    }

    package func store(_ value: Value, for key: Key) {
        guard ttl > .zero else { return }
        let entry = Entry(expires: now() + ttl, value: value)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
    }

    /// Stale-if-error (HTTP's `stale-if-error`, nginx's `proxy_cache_use_stale error timeout`): the
    /// refresh of `key` failed, so its last value is served as fresh for another `ttl` and the
    /// first caller after that tries again (the claim, if any, is given up). Returns that value, or
    /// nil when there is none to serve. While the source keeps failing, one caller every `ttl`
    /// waits on it and the others get the last value it gave, however old.
    package func keepAfterFailure(_ key: Key) -> Value? {
        let expires = now() + ttl
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            entries[key] = Entry(expires: expires, value: entry.value)
            return entry.value
        }
    }

    package func remove(_ key: Key) { _ = entries.withLock { $0.removeValue(forKey: key) } }

    package func removeAll() { entries.withLock { $0.removeAll() } }
}

extension LocalCache.Lookup: Equatable where Value: Equatable {}
