public import Domain
import Foundation
public import Graphiti

/// What the GraphQL API shows. Times are ISO 8601 strings; money is minor units (`Int`) with a
/// currency code.
enum DealStatusValue: String, Codable, CaseIterable, Sendable {
    case SCHEDULED, LIVE, SOLD_OUT, ENDED

    init(_ status: DealStatus) {
        switch status {
        case .scheduled: self = .SCHEDULED
        case .live: self = .LIVE
        case .soldOut: self = .SOLD_OUT
        case .ended: self = .ENDED
        }
    }

    var domain: DealStatus {
        switch self {
        case .SCHEDULED: .scheduled
        case .LIVE: .live
        case .SOLD_OUT: .soldOut
        case .ENDED: .ended
        }
    }
}

enum OrderStatusValue: String, Codable, CaseIterable, Sendable {
    case RESERVED, PAID, CANCELLED, EXPIRED, REFUNDED

    init(_ status: OrderStatus) {
        switch status {
        case .reserved: self = .RESERVED
        case .paid: self = .PAID
        case .cancelled: self = .CANCELLED
        case .expired: self = .EXPIRED
        case .refunded: self = .REFUNDED
        }
    }
}

/// A GraphQL `ID`: every node's `id` and every identifier argument, input field and outcome field,
/// so a Relay or Apollo client's `query($id: ID!)` is answered. Registered as the built-in `ID`
/// scalar (``ShopAPI``), coerced as GraphQL coerces it: a string out; a string or an integer in.
struct GraphID: Codable, Hashable, Sendable, CustomStringConvertible {
    let rawValue: String

    init(_ rawValue: String) { self.rawValue = rawValue }

    init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    var description: String { rawValue }
}

struct ProductNode: Codable, Sendable, Identifiable {
    let id: GraphID
    let name: String
    let description: String

    init(_ p: Product) {
        id = GraphID(p.id.rawValue)
        name = p.name
        description = p.description
    }
}

struct DealNode: Codable, Sendable, Identifiable {
    let id: GraphID
    let productId: String
    let status: DealStatusValue
    let price: Int
    let currency: String
    let starts: Instant
    let ends: Instant
    let perUserLimit: Int
    let reservationCap: Int
    let cancelCoolDownSeconds: Int
    let waitingRoom: WaitingRoomPolicyNode?
    let available: Int
    let reserved: Int
    let sold: Int

    init(_ terms: DealTerms, _ stock: DealStock?, now: Instant) {
        id = GraphID(terms.id.rawValue)
        productId = terms.productID.rawValue
        // A deal past its end reads as ended even before the scheduler has recorded it.
        var status = stock?.status ?? .scheduled
        if status != .ended, now >= terms.endsAt { status = .ended }
        self.status = DealStatusValue(status)
        price = Int(terms.price.minorUnits)
        currency = terms.price.currency
        starts = terms.startsAt
        ends = terms.endsAt
        perUserLimit = terms.perUserLimit
        reservationCap = terms.reservationCap
        cancelCoolDownSeconds = Int((Double(terms.cancelCoolDown.nanoseconds) / 1e9).rounded(.up))
        waitingRoom = terms.waitingRoom.map(WaitingRoomPolicyNode.init)
        available = stock?.inventory.available ?? terms.initialStock
        reserved = stock?.inventory.reserved ?? 0
        sold = stock?.inventory.sold ?? 0
    }

    // Times are formatted when a query asks for them (formatting is most of building a node).
    var startsAt: String { ISO8601.string(starts) }
    var endsAt: String { ISO8601.string(ends) }

    func product(context: RequestContext, arguments: NoArguments) async throws -> ProductNode? {
        try await context.products.load(ProductID(generated: productId)).map(ProductNode.init)
    }
}

struct OrderNode: Codable, Sendable, Identifiable {
    let id: GraphID
    let dealId: String
    let quantity: Int
    let status: OrderStatusValue
    let placed: Instant
    let expires: Instant
    let deadline: Instant

    init(_ o: Order) {
        id = GraphID(o.id.rawValue)
        dealId = o.dealID.rawValue
        quantity = o.quantity
        status = OrderStatusValue(o.status)
        placed = o.placedAt
        expires = o.expiresAt
        deadline = o.paymentDeadline
    }

    var createdAt: String { ISO8601.string(placed) }
    var expiresAt: String { ISO8601.string(expires) }
    var paymentDeadline: String { ISO8601.string(deadline) }

    func deal(context: RequestContext, arguments: NoArguments) async throws -> DealNode? {
        try await context.deal(DealID(generated: dealId))
    }
}

enum ISO8601 {
    static func string(_ instant: Instant) -> String {
        let date = Date(timeIntervalSince1970: Double(instant.nanosecondsSinceEpoch) / 1e9)
        return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

// MARK: Business outcomes: union members, not errors

protocol PlaceOrderResult: Sendable {}
protocol PayOrderResult: Sendable {}
protocol CancelOrderResult: Sendable {}
protocol DealCommandResult: Sendable {}
protocol ProductCommandResult: Sendable {}

struct OrderPlaced: PlaceOrderResult, Codable { let order: OrderNode }
struct SoldOut: PlaceOrderResult, Codable { let dealId: GraphID; let available: Int }
struct PurchaseLimitExceeded: PlaceOrderResult, Codable { let dealId: GraphID; let limit: Int; let remaining: Int }
/// The buyer cancelled a reservation of this deal moments ago: they may reserve again after
/// `retryAfterMs` (the deal's `cancelCoolDownSeconds`).
struct CancelCoolDown: PlaceOrderResult, Codable {
    let dealId: GraphID
    let retryAfterMs: Int

    init(dealId: GraphID, _ wait: Duration) {
        self.dealId = dealId
        retryAfterMs = RateLimited.milliseconds(wait)
    }
}
/// The buyer has opened the deal's cap of reservations that did not end paid.
struct ReservationCapReached: PlaceOrderResult, Codable { let dealId: GraphID; let cap: Int }
/// The deal has a waiting room and the order came without a good admission ticket.
struct AdmissionRequired: PlaceOrderResult, Codable { let dealId: GraphID; let reason: String }

protocol JoinWaitingRoomResult: Sendable {}
/// The deal has no waiting room: order directly.
struct NoWaitingRoom: JoinWaitingRoomResult, Codable { let dealId: GraphID }

/// A deal's waiting room as a deal shows it.
struct WaitingRoomPolicyNode: Codable, Sendable {
    let admissionRate: Double
    let ticketTtlSeconds: Int

    init(_ policy: WaitingRoomPolicy) {
        admissionRate = policy.admissionRate
        ticketTtlSeconds = Int(policy.ticketTTL.nanoseconds / 1_000_000_000)
    }
}

/// Where the caller stands in a deal's waiting room; once through, each read of
/// `admissionTicket` signs a fresh ticket good for one order.
struct WaitingRoomNode: JoinWaitingRoomResult, Codable {
    let dealId: GraphID
    let position: Int
    let queueLength: Int
    let drawn: Bool
    let admitted: Bool
    let admittedAtInstant: Instant

    init(deal: DealID, _ standing: WaitingRoomStanding) {
        dealId = GraphID(deal.rawValue)
        position = standing.position
        queueLength = standing.queueLength
        drawn = standing.drawn
        admitted = standing.isAdmitted
        admittedAtInstant = standing.admittedAt
    }

    var admittedAt: String { ISO8601.string(admittedAtInstant) }

    func admissionTicket(context: RequestContext, arguments: NoArguments) async throws -> String? {
        guard admitted, let user = context.userID, let room = context.waitingRoom,
            let terms = try await context.deals.load(DealID(generated: dealId.rawValue)), let policy = terms.waitingRoom
        else { return nil }
        return try await room.tickets.issue(deal: terms.id, user: user, at: await context.shop.ports.clock.now(), ttl: policy.ticketTTL)
    }
}
struct DealNotActive: PlaceOrderResult, Codable { let dealId: GraphID; let status: DealStatusValue }
struct DealNotFound: PlaceOrderResult, DealCommandResult, JoinWaitingRoomResult, Codable { let dealId: GraphID }
struct InvalidInput: PlaceOrderResult, DealCommandResult, ProductCommandResult, Codable { let field: String; let message: String }

struct OrderPaid: PayOrderResult, Codable { let order: OrderNode }
struct ReservationExpired: PayOrderResult, Codable { let order: OrderNode; let refunded: Bool }
struct PaymentDeclined: PayOrderResult, Codable { let order: OrderNode; let reason: String }
struct PaymentWindowClosed: PayOrderResult, Codable { let order: OrderNode }
struct OrderNotPayable: PayOrderResult, Codable { let order: OrderNode; let refunded: Bool }
struct OrderNotFound: PayOrderResult, CancelOrderResult, Codable { let orderId: GraphID }
/// The key was first used to pay another order (nothing of that order is told).
struct IdempotencyKeyReused: PayOrderResult, Codable { let orderId: GraphID }

struct OrderCancelled: CancelOrderResult, Codable { let order: OrderNode }
/// The caller's bucket is empty: nothing was done; the same request may be sent after `retryAfterMs`.
struct RateLimited: PlaceOrderResult, PayOrderResult, CancelOrderResult, Codable {
    let retryAfterMs: Int

    init(_ wait: Duration) {
        retryAfterMs = Self.milliseconds(wait)
    }

    /// A wait in whole milliseconds, rounded up, at least 1.
    static func milliseconds(_ wait: Duration) -> Int {
        max(1, Int((Double(wait.components.seconds) * 1000 + Double(wait.components.attoseconds) / 1e15).rounded(.up)))
    }
}
struct OrderRefunded: CancelOrderResult, Codable { let order: OrderNode }
struct OrderNotCancellable: CancelOrderResult, Codable { let order: OrderNode }

struct DealUpdated: DealCommandResult, Codable { let deal: DealNode }
struct ProductCreated: ProductCommandResult, Codable { let product: ProductNode }
