/// The stock of one deal and the gate every order passes: the one place that decides whether
/// units can be taken.
///
/// Invariants, checked by ``checkInvariants()`` and held by every method:
/// `available + reserved + sold == total`, none negative; each open reservation and each sold
/// order is counted once; a user's holding (units in open and paid orders) never exceeds the
/// per-user limit; an idempotency key maps to at most one order; with a reservation cap, no buyer
/// has opened more unpaid reservations than it.
///
/// Every change is an ``InventoryEvent``: the `decide` methods return the event (or a refusal)
/// without changing anything, ``apply(_:)`` is the only mutation, so replaying the events
/// rebuilds the same value.
public struct Inventory: Hashable, Sendable {
    public let dealID: DealID
    public let perUserLimit: Int
    /// Unpaid reservations a buyer may open over the sale (``DealTerms/reservationCap``; 0: no cap).
    public let reservationCap: Int
    /// How long a buyer who cancelled waits to reserve again (``DealTerms/cancelCoolDown``).
    public let cancelCoolDown: Duration
    public internal(set) var total: Int
    public internal(set) var available: Int
    public internal(set) var reserved: Int
    public internal(set) var sold: Int
    /// The sequence number of the last applied event.
    public internal(set) var version: Int
    public internal(set) var reservations: [OrderID: Reservation]
    public internal(set) var soldOrders: [OrderID: Holding]
    public internal(set) var holdings: [UserID: Int]
    public internal(set) var orderForKey: [IdempotencyScope: KeyRecord]
    /// Per buyer, the reservations opened that were not paid (open, cancelled or expired): what
    /// the reservation cap counts.
    public internal(set) var unpaidReservations: [UserID: Int]
    /// Per buyer who cancelled while the deal has a cool-down, when they may reserve again.
    public internal(set) var coolingUntil: [UserID: Instant]

    /// Units held by one open reservation.
    public struct Reservation: Hashable, Sendable, Codable {
        public var userID: UserID
        public var quantity: Int
        public var expiresAt: Instant
    }

    /// Units sold to one order.
    public struct Holding: Hashable, Sendable, Codable {
        public var userID: UserID
        public var quantity: Int
    }

    /// What a used idempotency key remembers: enough to answer a retry with the first order
    /// even before that order reaches the order repository.
    public struct KeyRecord: Hashable, Sendable, Codable {
        public var orderID: OrderID
        public var quantity: Int
        public var reservedAt: Instant
        public var expiresAt: Instant

        public init(orderID: OrderID, quantity: Int, reservedAt: Instant, expiresAt: Instant) {
            self.orderID = orderID
            self.quantity = quantity
            self.reservedAt = reservedAt
            self.expiresAt = expiresAt
        }
    }

    /// An idempotency key belongs to the user who sent it, so two users' keys never collide.
    public struct IdempotencyScope: Hashable, Sendable, Codable {
        public var userID: UserID
        public var key: IdempotencyKey
        public init(userID: UserID, key: IdempotencyKey) {
            self.userID = userID
            self.key = key
        }
    }

    /// Creates the inventory from its creation event.
    public init(_ created: InventoryCreated) {
        dealID = created.dealID
        perUserLimit = created.perUserLimit
        reservationCap = created.reservationCap
        cancelCoolDown = .nanoseconds(created.cancelCoolDownNanoseconds)
        total = created.total
        available = created.total
        reserved = 0
        sold = 0
        version = 1
        reservations = [:]
        soldOrders = [:]
        holdings = [:]
        orderForKey = [:]
        unpaidReservations = [:]
        coolingUntil = [:]
    }

    /// The counters at this version.
    public var snapshot: InventorySnapshot {
        InventorySnapshot(
            dealID: dealID, total: total, available: available, reserved: reserved, sold: sold, version: version)
    }

    /// Units the user holds in open and paid orders.
    public func holding(of user: UserID) -> Int { holdings[user, default: 0] }

    /// Reservations due to expire at `instant`, in expiry order (ties by order id).
    public func dueReservations(at instant: Instant) -> [OrderID] {
        reservations.filter { $0.value.expiresAt <= instant }
            .sorted { ($0.value.expiresAt, $0.key) < ($1.value.expiresAt, $1.key) }
            .map(\.key)
    }

    public func checkInvariants() -> [String] {
        var broken: [String] = []
        if available + reserved + sold != total {
            broken.append("available \(available) + reserved \(reserved) + sold \(sold) != total \(total)")
        }
        if available < 0 || reserved < 0 || sold < 0 { broken.append("a counter is negative") }
        if reservations.values.reduce(0, { $0 + $1.quantity }) != reserved {
            broken.append("reservations do not add up to reserved \(reserved)")
        }
        if soldOrders.values.reduce(0, { $0 + $1.quantity }) != sold {
            broken.append("sold orders do not add up to sold \(sold)")
        }
        if !Set(reservations.keys).isDisjoint(with: soldOrders.keys) {
            broken.append("an order is both reserved and sold")
        }
        for (user, units) in holdings where units > perUserLimit || units < 0 {
            broken.append("user \(user) holds \(units), limit \(perUserLimit)")
        }
        for (user, opened) in unpaidReservations where opened < 0 || (reservationCap > 0 && opened > reservationCap) {
            broken.append("user \(user) opened \(opened) unpaid reservations, cap \(reservationCap)")
        }
        return broken
    }
}

/// The counters of one deal's inventory at a version.
public struct InventorySnapshot: Hashable, Sendable, Codable {
    public var dealID: DealID
    public var total: Int
    public var available: Int
    public var reserved: Int
    public var sold: Int
    public var version: Int

    public init(dealID: DealID, total: Int, available: Int, reserved: Int, sold: Int, version: Int) {
        self.dealID = dealID
        self.total = total
        self.available = available
        self.reserved = reserved
        self.sold = sold
        self.version = version
    }
}
