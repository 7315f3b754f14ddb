/// Stores orders (the read model the API serves). Adapters: in-memory, MongoDB.
public protocol OrderRepository: Sendable {
    /// Saves `order` when the stored version is `expectedVersion` (0 for a new order);
    /// throws ``VersionConflict`` otherwise.
    func save(_ order: Order, expectedVersion: Int) async throws
    func order(_ id: OrderID) async throws -> Order?
    /// The orders among `ids` that exist, in any order (one round trip: for batching loaders).
    func orders(_ ids: [OrderID]) async throws -> [Order]
    /// A user's orders, newest first, after the cursor order (exclusive).
    func orders(of user: UserID, after: OrderID?, limit: Int) async throws -> [Order]
    /// Saves each order at its expected version; returns the ids that lost a version race.
    /// Adapters may write the batch in one round trip.
    func save(_ batch: [(order: Order, expectedVersion: Int)]) async throws -> [OrderID]
}

extension OrderRepository {
    public func save(_ batch: [(order: Order, expectedVersion: Int)]) async throws -> [OrderID] {
        var conflicts: [OrderID] = []
        for (order, expected) in batch {
            do { try await save(order, expectedVersion: expected) } catch is VersionConflict { conflicts.append(order.id) }
        }
        return conflicts
    }
}

/// Stores products and deal terms. Adapters: in-memory, MongoDB (cached in Redis).
public protocol DealCatalog: Sendable {
    func add(_ product: Product) async throws
    func add(_ terms: DealTerms) async throws
    func product(_ id: ProductID) async throws -> Product?
    func products(_ ids: [ProductID]) async throws -> [Product]
    func deal(_ id: DealID) async throws -> DealTerms?
    func deals(_ ids: [DealID]) async throws -> [DealTerms]
    /// Deals in id order after the cursor deal (exclusive).
    func deals(after: DealID?, limit: Int) async throws -> [DealTerms]
}

/// Stores payments. Adapters: in-memory, Redis (the request path), MongoDB (the durable read
/// model the writer keeps from events).
public protocol PaymentRepository: Sendable {
    func save(_ payment: Payment, expectedVersion: Int) async throws
    func payment(_ id: PaymentID) async throws -> Payment?
    /// The payments among `ids` that exist, in any order. Adapters may read them in one round trip.
    func payments(_ ids: [PaymentID]) async throws -> [Payment]
    /// Saves each payment at its expected version; returns the ids that lost a version race.
    func save(_ batch: [(payment: Payment, expectedVersion: Int)]) async throws -> [PaymentID]
}

extension PaymentRepository {
    public func payments(_ ids: [PaymentID]) async throws -> [Payment] {
        var found: [Payment] = []
        for id in ids { if let payment = try await payment(id) { found.append(payment) } }
        return found
    }

    public func save(_ batch: [(payment: Payment, expectedVersion: Int)]) async throws -> [PaymentID] {
        var conflicts: [PaymentID] = []
        for (payment, expected) in batch {
            do { try await save(payment, expectedVersion: expected) } catch is VersionConflict { conflicts.append(payment.id) }
        }
        return conflicts
    }
}

/// Remembers the result of a command sent with an idempotency key, so a retry returns it.
///
/// A command with side effects outside (a charge) first **claims** its scope: the claim is stored
/// atomically before anything else happens, so a concurrent duplicate finds it and joins the same
/// attempt, and a crash leaves it pending for the reconciler, which finishes the attempt. Settling
/// replaces the claim with the final result (or releases it).
public protocol IdempotencyStore: Sendable {
    func result(for scope: IdempotencyStoreKey) async throws -> StoredResult?
    /// Stores `pending` for `scope` unless a record is there (atomically) and lists the claim as
    /// pending since `at`. Returns the record found (nil: this call claimed the scope).
    func claim(_ pending: StoredResult, for scope: IdempotencyStoreKey, at: Instant) async throws -> StoredResult?
    /// Replaces a claim with its final `result`, or removes it when `result` is nil (released: the
    /// scope may be claimed again), and takes it off the pending list.
    func settle(_ result: StoredResult?, for scope: IdempotencyStoreKey) async throws
    /// Claims pending since before `instant`, oldest first, at most `limit`: the attempts a crash
    /// may have cut short.
    func pendingClaims(before instant: Instant, limit: Int) async throws -> [IdempotencyStoreKey]
    /// Settles several claims in order. Adapters may do it in one round trip.
    func settle(_ claims: [(StoredResult?, IdempotencyStoreKey)]) async throws
}

extension IdempotencyStore {
    public func settle(_ claims: [(StoredResult?, IdempotencyStoreKey)]) async throws {
        for (result, scope) in claims { try await settle(result, for: scope) }
    }
}

/// The scope of an idempotency key: the operation, the user, the key, and the deal whose order it
/// concerns (nil: none). The deal is part of the scope: a store keeps the claim beside the deal's
/// stock and orders, so one atomic step can write them together (on a Redis Cluster, in one hash
/// slot), and a buyer's key answers for one order of that deal.
public struct IdempotencyStoreKey: Hashable, Sendable, Codable {
    public var operation: String
    public var userID: UserID
    public var key: IdempotencyKey
    public var dealID: DealID?
    public init(operation: String, userID: UserID, key: IdempotencyKey, dealID: DealID? = nil) {
        self.operation = operation
        self.userID = userID
        self.key = key
        self.dealID = dealID
    }
}

/// A stored command result: an outcome name, the identifier or reason it concerned, and the
/// order it is bound to (a key answers only for the order it was first used for; nil in records
/// stored before they were bound).
public struct StoredResult: Hashable, Sendable, Codable {
    public var outcome: String
    public var subject: String
    public var order: String?
    public init(outcome: String, subject: String, order: String? = nil) {
        self.outcome = outcome
        self.subject = subject
        self.order = order
    }
}

/// A write lost an optimistic-concurrency race.
public struct VersionConflict: Error, Hashable, Sendable, CustomStringConvertible {
    public var stream: String
    public var expected: Int
    public var actual: Int
    public init(stream: String, expected: Int, actual: Int) {
        self.stream = stream
        self.expected = expected
        self.actual = actual
    }
    public var description: String { "\(stream): expected version \(expected), found \(actual)" }
}
