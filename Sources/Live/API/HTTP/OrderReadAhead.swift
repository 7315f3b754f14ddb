public import Domain
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
public struct ReadAheadOrders<Base: OrderRepository>: OrderRepository {
    public let base: Base

    public init(_ base: Base) { self.base = base }

    /// Starts reading `id` for the request about to run.
    func start(_ id: OrderID) -> OrderReadAhead {
        OrderReadAhead(id: id, read: Task { [base] in try await base.order(id) })
    }

    public func order(_ id: OrderID) async throws -> Order? {
        if let read = OrderReadAhead.current?.take(id) { return try await read.value }
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
    private let read: Task<Order?, any Error>
    private let taken = Atomic(false)

    init(id: OrderID, read: Task<Order?, any Error>) {
        self.id = id
        self.read = read
    }

    /// The read, for the first caller asking for `id`; nil for any other id and after the first.
    func take(_ id: OrderID) -> Task<Order?, any Error>? {
        guard id == self.id, !taken.exchange(true, ordering: .relaxed) else { return nil }
        return read
    }
}
