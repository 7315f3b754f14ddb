public import Domain
import LiveRuntime
import Synchronization

/// The orders port with a read-ahead: `payOrder` and `cancelOrder` start by reading the order they
/// name, and `ShopRouter` knows which order that is (``DocumentCache/OrderReference``) before the
/// mutation may run, while it waits for the caller's rate-limit buckets. It starts the read then
/// (``start(_:)``), and the mutation's first read of that order takes its answer instead of asking
/// again: one round trip of the request's path overlaps another instead of following it. Every
/// other read, and every read outside a request that started one, goes to `base`.
///
/// The answer is the order as it was a moment before the mutation runs, as if the request had
/// come that moment earlier: the money path never trusts a read (it writes with the version it
/// read, and reads again when another request wrote first). A request refused by its buckets
/// drops its read, so a refused caller costs one read more; only authenticated callers start one.
///
/// How the read starts matters under load. `startReading` (Redis's, ``RedisOrderRepository``) writes
/// it at once, so it leaves with the request's rate-limit call. Otherwise it runs in a task of its
/// own on the server's task executor (``ServerTasks``). Before either, the read ran on the global
/// executor and every nonisolated call on its way to Redis was a hop to the back of a loop's
/// queue: under `make bench-live`'s journey at 2k requests a second, traces put 8 ms at P95 (24 ms
/// at P99) between a `payOrder` starting and its first write.
public struct ReadAheadOrders<Base: OrderRepository>: OrderRepository {
    public let base: Base
    let startReading: (@Sendable (OrderID) -> (@Sendable () async throws -> Order?)?)?

    /// `startReading`: starts `base`'s read of an order at once and gives its answer when awaited
    /// (nil when it cannot: a task reads instead).
    public init(_ base: Base, startReading: (@Sendable (OrderID) -> (@Sendable () async throws -> Order?)?)? = nil) {
        self.base = base
        self.startReading = startReading
    }

    /// Starts reading `id` for the request about to run.
    func start(_ id: OrderID) -> OrderReadAhead {
        if let read = startReading?(id) { return OrderReadAhead(id: id, read: read) }
        let task = Task(executorPreference: ServerTasks.executor) { [base] in try await base.order(id) }
        return OrderReadAhead(id: id) { try await task.value }
    }

    /// A read-ahead that failed (its connection broke on the way) is made again through `base`,
    /// which connects again: a read may be repeated, and the request's first read costs no more
    /// than it did before read-aheads.
    public func order(_ id: OrderID) async throws -> Order? {
        if let read = OrderReadAhead.current?.take(id) {
            do { return try await read() } catch {}  // made again below
        }
        return try await base.order(id)
    }

    public func save(_ order: Order, expectedVersion: Int) async throws { try await base.save(order, expectedVersion: expectedVersion) }
    public func orders(_ ids: [OrderID]) async throws -> [Order] { try await base.orders(ids) }
    public func orders(of user: UserID, after: OrderID?, limit: Int) async throws -> [Order] { try await base.orders(of: user, after: after, limit: limit) }
    public func save(_ batch: [(order: Order, expectedVersion: Int)]) async throws -> [OrderID] { try await base.save(batch) }
}

/// Whatever kind of orders port a composition made: a router asks it to start a read-ahead.
protocol OrderReadingAhead: Sendable {
    func start(_ id: OrderID) -> OrderReadAhead
}

extension ReadAheadOrders: OrderReadingAhead {}

/// One request's read of the order it names, started early; the first read of that order in the
/// request's task (``current``) takes it, once.
final class OrderReadAhead: Sendable {
    @TaskLocal static var current: OrderReadAhead?

    let id: OrderID
    private let read: @Sendable () async throws -> Order?
    private let taken = Atomic(false)

    init(id: OrderID, read: @escaping @Sendable () async throws -> Order?) {
        self.id = id
        self.read = read
    }

    /// The read's answer, for the first caller asking for `id`; nil for any other id and after
    /// the first.
    func take(_ id: OrderID) -> (@Sendable () async throws -> Order?)? {
        guard id == self.id, !taken.exchange(true, ordering: .relaxed) else { return nil }
        return read
    }
}
