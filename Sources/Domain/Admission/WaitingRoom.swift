/// A deal's waiting room: the crowd that comes before the start is put in random order when the
/// deal starts (being early by a millisecond buys nothing), whoever comes after joins in arrival
/// order, and buyers are let through at `admissionRate` a second from the start. Only an admitted
/// buyer gets admission tickets, and on a deal with a waiting room `placeOrder` needs one.
public struct WaitingRoomPolicy: Hashable, Sendable, Codable {
    /// Buyers let through each second from the deal's start.
    public var admissionRate: Double
    /// How long an admission ticket stays valid (each is good for one order).
    public var ticketTTL: Duration

    public init(admissionRate: Double, ticketTTL: Duration) throws(ValidationError) {
        guard admissionRate.isFinite, admissionRate >= 0.01, admissionRate <= 1_000_000 else {
            throw ValidationError(field: "admissionRate", reason: "must be between 0.01 and 1000000 buyers a second")
        }
        guard ticketTTL >= .seconds(1), ticketTTL <= .seconds(3600) else {
            throw ValidationError(field: "ticketTtlSeconds", reason: "must be between 1 and 3600 seconds")
        }
        self.admissionRate = admissionRate
        self.ticketTTL = ticketTTL
    }

    enum CodingKeys: String, CodingKey { case admissionRate, ticketTTL = "ticketTtlNanoseconds" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(admissionRate: c.decode(Double.self, forKey: .admissionRate), ticketTTL: .nanoseconds(c.decode(Int64.self, forKey: .ticketTTL)))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(admissionRate, forKey: .admissionRate)
        try c.encode(ticketTTL.nanoseconds, forKey: .ticketTTL)
    }

    /// Where a buyer joining at `instant` stands in the queue: before the start a `draw` in
    /// [0, 1) (the early crowd in random order), after it 1 plus the seconds since the start
    /// (arrival order, behind everyone who came before). Lower goes first.
    public static func place(joinedAt instant: Instant, startsAt: Instant, draw: Double) -> Double {
        guard instant >= startsAt else { return min(max(draw, 0), 0.999_999_999) }
        return 1 + Double((instant - startsAt).nanoseconds) / 1e9
    }

    /// How many buyers at the head of the queue are through at `instant`: the rate times the
    /// time since the start, the first of them at the start itself.
    public func admitted(at instant: Instant, startsAt: Instant) -> Int {
        guard instant >= startsAt else { return 0 }
        let elapsed = Double((instant - startsAt).nanoseconds) / 1e9
        let through = (elapsed * admissionRate).rounded(.down) + 1
        return through >= Double(Int.max / 2) ? Int.max / 2 : Int(through)
    }

    /// When the buyer at 0-based `rank` is through.
    public func admission(ofRank rank: Int, startsAt: Instant) -> Instant {
        startsAt + .nanoseconds(Int64((Double(rank) / admissionRate * 1e9).rounded(.up)))
    }

    /// Where the buyer at 0-based `rank` of a queue of `length` stands at `instant`.
    public func standing(rank: Int, length: Int, at instant: Instant, startsAt: Instant) -> WaitingRoomStanding {
        let through = admitted(at: instant, startsAt: startsAt)
        return WaitingRoomStanding(
            rank: rank, position: rank < through ? 0 : rank - through + 1, queueLength: length, drawn: instant >= startsAt,
            admittedAt: admission(ofRank: rank, startsAt: startsAt))
    }
}

/// Where a buyer stands in a deal's waiting room.
public struct WaitingRoomStanding: Hashable, Sendable {
    /// The buyer's 0-based place in the queue. Once the deal has started it no longer changes
    /// (the early crowd is drawn, later arrivals only join behind), so the position follows from it
    /// and the clock alone.
    public var rank: Int
    /// Buyers ahead plus one while waiting (1: next); 0 once through.
    public var position: Int
    /// Everyone who joined so far.
    public var queueLength: Int
    /// Whether the early crowd's order has been drawn (the deal has started): before that the
    /// position is where the draw put the buyer so far, and later joiners may still come before.
    public var drawn: Bool
    /// When the buyer is (or was) let through, at the admission rate.
    public var admittedAt: Instant

    public init(rank: Int, position: Int, queueLength: Int, drawn: Bool, admittedAt: Instant) {
        self.rank = rank
        self.position = position
        self.queueLength = queueLength
        self.drawn = drawn
        self.admittedAt = admittedAt
    }

    public var isAdmitted: Bool { position == 0 }
}

/// The waiting rooms' queues and spent tickets, shared by every replica. Adapters: in-memory,
/// Redis (a sorted set per deal).
public protocol WaitingRoomStore: Sendable {
    /// Puts `user` in `deal`'s queue at `place` unless already in it (the first place stands);
    /// returns the user's 0-based rank and the queue's length.
    func join(_ deal: DealID, _ user: UserID, place: Double) async throws -> (rank: Int, length: Int)
    /// The user's 0-based rank and the queue's length; nil when the user has not joined.
    func rank(_ deal: DealID, _ user: UserID) async throws -> (rank: Int, length: Int)?
    /// Spends ticket `id` for the order with idempotency key `key`: true the first time, and for
    /// a retry with the same key (so a retried `placeOrder` is not refused); false once spent on
    /// another. Remembered for `ttl`.
    func spend(ticket id: String, deal: DealID, key: IdempotencyKey, ttl: Duration) async throws -> Bool
}

/// The waiting room's desk: joins buyers and says where they stand.
public struct WaitingRoomDesk: Sendable {
    let store: any WaitingRoomStore
    let clock: any DomainClock
    /// A uniform draw in [0, 1) for each buyer who comes before the start.
    let draw: @Sendable () -> Double

    public init(store: any WaitingRoomStore, clock: any DomainClock, draw: @escaping @Sendable () -> Double) {
        self.store = store
        self.clock = clock
        self.draw = draw
    }

    /// Puts the buyer in the deal's queue (again: where they were) and says where they stand;
    /// nil when the deal has no waiting room.
    public func join(_ terms: DealTerms, _ user: UserID) async throws -> WaitingRoomStanding? {
        guard let policy = terms.waitingRoom else { return nil }
        let now = await clock.now()
        let (rank, length) = try await store.join(terms.id, user, place: WaitingRoomPolicy.place(joinedAt: now, startsAt: terms.startsAt, draw: draw()))
        return policy.standing(rank: rank, length: length, at: now, startsAt: terms.startsAt)
    }

    /// Where the buyer stands; nil when the deal has no waiting room or the buyer has not joined.
    public func standing(_ terms: DealTerms, _ user: UserID) async throws -> WaitingRoomStanding? {
        guard let policy = terms.waitingRoom, let (rank, length) = try await store.rank(terms.id, user) else { return nil }
        return policy.standing(rank: rank, length: length, at: await clock.now(), startsAt: terms.startsAt)
    }
}
