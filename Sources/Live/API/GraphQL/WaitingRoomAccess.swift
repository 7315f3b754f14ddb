public import Domain
import Foundation
public import JWTKit
import Synchronization

/// What the API needs of the waiting rooms: the desk (queues, through a store every replica
/// shares) and the admission tickets it signs and checks.
public struct WaitingRoomAccess: Sendable {
    public let desk: WaitingRoomDesk
    public let store: any WaitingRoomStore
    public let tickets: AdmissionTickets

    public init(store: any WaitingRoomStore, tickets: AdmissionTickets, clock: any DomainClock, draw: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.store = store
        self.tickets = tickets
        desk = WaitingRoomDesk(store: store, clock: clock, draw: draw)
    }
}

/// Admission tickets: short-lived, signed (HS256 with a key of their own, derived from a secret
/// every replica shares, so a ticket is never a bearer token and the reverse), naming the deal,
/// the buyer, when it expires on the shop's clock and an id that makes it good for one order.
public struct AdmissionTickets: Sendable {
    let keys: Task<JWTKeyCollection, Never>

    public init(secret: String) {
        keys = Task {
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: "flashdeal-admission-ticket:" + secret), digestAlgorithm: .sha256)
            return keys
        }
    }

    /// A ticket for `user` to order from `deal`, valid for `ttl` from `now`.
    public func issue(deal: DealID, user: UserID, at now: Instant, ttl: Duration) async throws -> String {
        let claims = AdmissionClaims(
            sub: user.rawValue, deal: deal.rawValue, expiresAt: (now + ttl).nanosecondsSinceEpoch, jti: UUID().uuidString.lowercased())
        return try await keys.value.sign(claims)
    }

    /// The ticket's id and expiry when `token` is a ticket this shop signed for `user` and
    /// `deal` that has not expired at `now`; otherwise why not.
    public func verify(_ token: String, deal: DealID, user: UserID, at now: Instant) async -> Result<(id: String, expiresAt: Instant), TicketRefusal> {
        let claims: AdmissionClaims
        do { claims = try await keys.value.verify(token, as: AdmissionClaims.self) } catch { return .failure(.invalid) }
        guard claims.deal == deal.rawValue, claims.sub == user.rawValue else { return .failure(.notYours) }
        let expiresAt = Instant(nanosecondsSinceEpoch: claims.expiresAt)
        guard now < expiresAt else { return .failure(.expired) }
        return .success((claims.jti, expiresAt))
    }

    public enum TicketRefusal: String, Error, Sendable {
        case missing = "this deal has a waiting room: join it, and order with the admission ticket it gives once you are through"
        case invalid = "the admission ticket is not one this shop signed"
        case notYours = "the admission ticket is for another buyer or deal"
        case expired = "the admission ticket has expired: ask the waiting room for a new one"
        case spent = "the admission ticket was used for another order"
    }
}

/// A ticket's claims. Its expiry is checked against the shop's clock by ``AdmissionTickets``,
/// not jwt-kit's (which reads the wall clock).
struct AdmissionClaims: JWTPayload {
    var sub: String
    var deal: String
    /// Nanoseconds since the epoch.
    var expiresAt: Int64
    var jti: String

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
