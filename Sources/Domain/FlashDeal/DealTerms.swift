/// What a flash deal sells and on what terms: fixed once the deal is scheduled.
///
/// Invariants: `startsAt < endsAt`; `perUserLimit >= 1`; `initialStock >= 0`;
/// `0 < paymentWindow <= reservationTTL`, so a payment may only be requested while the
/// reservation still holds its stock; `0 <= reservationCap <= 1000`; `0 <= cancelCoolDown <= 1 day`.
public struct DealTerms: Hashable, Sendable, Codable {
    public let id: DealID
    public let productID: ProductID
    public let price: Money
    public let startsAt: Instant
    public let endsAt: Instant
    public let perUserLimit: Int
    /// How long a reservation holds its units before they return to the shelf.
    public let reservationTTL: Duration
    /// How long after placing an order its payment may be requested.
    public let paymentWindow: Duration
    public let initialStock: Int
    /// Reservations a buyer may open on this deal that do not end paid (open, cancelled or
    /// expired ones), over the whole sale: a cycle of placing and cancelling to keep units off the
    /// shelf ends there. 0: no cap.
    public let reservationCap: Int
    /// How long after cancelling a reservation the buyer may not reserve this deal again. Zero:
    /// no cool-down.
    public let cancelCoolDown: Duration
    /// The deal's waiting room, when it has one (``WaitingRoomPolicy``): then an order needs an
    /// admission ticket.
    public let waitingRoom: WaitingRoomPolicy?

    /// The longest cool-down a deal may have.
    public static let maximumCoolDown = Duration.seconds(86_400)

    /// Validates the terms, naming the first field that breaks a rule.
    public init(
        id: DealID, productID: ProductID, price: Money, startsAt: Instant, endsAt: Instant, perUserLimit: Int,
        reservationTTL: Duration, paymentWindow: Duration, initialStock: Int, reservationCap: Int = 0, cancelCoolDown: Duration = .zero,
        waitingRoom: WaitingRoomPolicy? = nil
    ) throws(ValidationError) {
        guard price.minorUnits >= 0 else { throw ValidationError(field: "price", reason: "must not be negative") }
        guard startsAt < endsAt else { throw ValidationError(field: "endsAt", reason: "must be after startsAt") }
        guard perUserLimit >= 1, perUserLimit <= 1000 else {
            throw ValidationError(field: "perUserLimit", reason: "must be between 1 and 1000")
        }
        guard initialStock >= 0, initialStock <= Int(Int32.max) else {
            throw ValidationError(field: "stock", reason: "must be between 0 and \(Int32.max)")
        }
        guard reservationTTL > .zero else {
            throw ValidationError(field: "reservationTTL", reason: "must be positive")
        }
        guard paymentWindow > .zero, paymentWindow <= reservationTTL else {
            throw ValidationError(field: "paymentWindow", reason: "must be positive and at most reservationTTL")
        }
        guard reservationCap >= 0, reservationCap <= 1000 else {
            throw ValidationError(field: "reservationCap", reason: "must be between 0 (no cap) and 1000")
        }
        guard cancelCoolDown >= .zero, cancelCoolDown <= Self.maximumCoolDown else {
            throw ValidationError(field: "cancelCoolDown", reason: "must be between 0 and one day")
        }
        self.id = id
        self.productID = productID
        self.price = price
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.perUserLimit = perUserLimit
        self.reservationTTL = reservationTTL
        self.paymentWindow = paymentWindow
        self.initialStock = initialStock
        self.reservationCap = reservationCap
        self.cancelCoolDown = cancelCoolDown
        self.waitingRoom = waitingRoom
    }

    /// Whether `quantity` is one a single order may ask for.
    public func admits(quantity: Int) -> Bool { quantity >= 1 && quantity <= perUserLimit }

    /// Whether `instant` lies in the sale window `[startsAt, endsAt)`.
    public func isWithinWindow(_ instant: Instant) -> Bool { instant >= startsAt && instant < endsAt }
}

extension DealTerms {
    enum CodingKeys: String, CodingKey {
        case id, productID = "productId", price, startsAt, endsAt, perUserLimit
        case reservationTTL = "reservationTtlNanoseconds", paymentWindow = "paymentWindowNanoseconds", initialStock
        case reservationCap, cancelCoolDown = "cancelCoolDownNanoseconds", waitingRoom
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            id: c.decode(DealID.self, forKey: .id), productID: c.decode(ProductID.self, forKey: .productID),
            price: c.decode(Money.self, forKey: .price), startsAt: c.decode(Instant.self, forKey: .startsAt),
            endsAt: c.decode(Instant.self, forKey: .endsAt), perUserLimit: c.decode(Int.self, forKey: .perUserLimit),
            reservationTTL: .nanoseconds(c.decode(Int64.self, forKey: .reservationTTL)),
            paymentWindow: .nanoseconds(c.decode(Int64.self, forKey: .paymentWindow)),
            initialStock: c.decode(Int.self, forKey: .initialStock),
            // Terms stored before these rules existed have none.
            reservationCap: c.decodeIfPresent(Int.self, forKey: .reservationCap) ?? 0,
            cancelCoolDown: .nanoseconds(c.decodeIfPresent(Int64.self, forKey: .cancelCoolDown) ?? 0),
            waitingRoom: c.decodeIfPresent(WaitingRoomPolicy.self, forKey: .waitingRoom))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(productID, forKey: .productID)
        try c.encode(price, forKey: .price)
        try c.encode(startsAt, forKey: .startsAt)
        try c.encode(endsAt, forKey: .endsAt)
        try c.encode(perUserLimit, forKey: .perUserLimit)
        try c.encode(reservationTTL.nanoseconds, forKey: .reservationTTL)
        try c.encode(paymentWindow.nanoseconds, forKey: .paymentWindow)
        try c.encode(initialStock, forKey: .initialStock)
        try c.encode(reservationCap, forKey: .reservationCap)
        try c.encode(cancelCoolDown.nanoseconds, forKey: .cancelCoolDown)
        try c.encodeIfPresent(waitingRoom, forKey: .waitingRoom)
    }
}
