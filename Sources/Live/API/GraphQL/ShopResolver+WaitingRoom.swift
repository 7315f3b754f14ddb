import Domain
import Foundation
import LiveRuntime

/// A deal's waiting room: `joinWaitingRoom` puts the caller in the queue, `waitingRoom` says where
/// they stand, `waitingRoomUpdates` pushes it as the queue moves; once through, the standing's
/// `admissionTicket` is what `placeOrder` needs for that deal.
extension ShopResolver {
    struct WaitingRoomArguments: Codable, Sendable { let dealId: GraphID }

    /// How often `waitingRoomUpdates` looks at the queue (it moves with time, at the admission rate).
    static let waitingRoomTick = Duration.milliseconds(250)
    /// Every how many ticks `waitingRoomUpdates` reads the queue's length again once the deal runs.
    static let waitingRoomRefresh = 20

    func joinWaitingRoom(context: RequestContext, arguments: WaitingRoomArguments) async throws -> any JoinWaitingRoomResult {
        let user = try Self.caller(context)
        let id = try DealID(validating: arguments.dealId.rawValue, field: "dealId")
        guard let terms = try await context.deals.load(id) else { return DealNotFound(dealId: arguments.dealId) }
        guard let room = context.waitingRoom, let standing = try await room.desk.join(terms, user) else { return NoWaitingRoom(dealId: arguments.dealId) }
        context.metrics?.outcome("joinWaitingRoom", standing.isAdmitted ? "Admitted" : "Waiting")
        return WaitingRoomNode(deal: id, standing)
    }

    func waitingRoom(context: RequestContext, arguments: WaitingRoomArguments) async throws -> WaitingRoomNode? {
        let user = try Self.caller(context)
        let id = try DealID(validating: arguments.dealId.rawValue, field: "dealId")
        guard let terms = try await context.deals.load(id), let room = context.waitingRoom else { return nil }
        return try await room.desk.standing(terms, user).map { WaitingRoomNode(deal: id, $0) }
    }

    func waitingRoomUpdates(context: RequestContext, arguments: WaitingRoomArguments) async throws -> AsyncThrowingStream<WaitingRoomNode, any Error> {
        let user = try Self.caller(context)
        let id = try DealID(validating: arguments.dealId.rawValue, field: "dealId")
        guard let terms = try await context.deals.load(id), terms.waitingRoom != nil, let room = context.waitingRoom else {
            throw ValidationError(field: "dealId", reason: "names no deal with a waiting room")
        }
        guard try await room.desk.standing(terms, user) != nil else { throw ValidationError(field: "dealId", reason: "names a waiting room you have not joined") }
        // The standing now, then each time it changes, until the buyer is through. Once the deal
        // has started the buyer's rank is fixed, so the position follows from the clock: the store
        // is asked again only for the queue's length, every `waitingRoomRefresh` ticks.
        let policy = terms.waitingRoom!, clock = context.shop.ports.clock
        return AsyncThrowingStream { continuation in
            let task = Task(executorPreference: ServerTasks.executor) {
                do {
                    var last: WaitingRoomStanding?
                    var tick = 0
                    while !Task.isCancelled {
                        let standing: WaitingRoomStanding
                        if let last, last.drawn, tick % Self.waitingRoomRefresh != 0 {
                            standing = policy.standing(rank: last.rank, length: last.queueLength, at: await clock.now(), startsAt: terms.startsAt)
                        } else {
                            guard let read = try await room.desk.standing(terms, user) else { break }
                            standing = read
                        }
                        tick += 1
                        if standing != last { continuation.yield(WaitingRoomNode(deal: id, standing)) }
                        last = standing
                        if standing.isAdmitted { break }
                        try await Task.sleep(for: Self.waitingRoomTick)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Why an order for `terms` may not be placed with `ticket` (nil: it may): a deal with a
    /// waiting room takes orders with a ticket this shop signed for the caller and the deal,
    /// unexpired, and not spent on another order.
    static func admissionRefusal(_ context: RequestContext, _ terms: DealTerms, ticket: String?, user: UserID, key: IdempotencyKey) async throws -> String? {
        guard let policy = terms.waitingRoom else { return nil }
        guard let room = context.waitingRoom else { return "this server runs no waiting rooms" }
        guard let ticket, !ticket.isEmpty else { return AdmissionTickets.TicketRefusal.missing.rawValue }
        switch await room.tickets.verify(ticket, deal: terms.id, user: user, at: await context.shop.ports.clock.now()) {
        case .failure(let refusal): return refusal.rawValue
        case .success(let valid):
            guard try await room.store.spend(ticket: valid.id, deal: terms.id, key: key, ttl: policy.ticketTTL) else {
                return AdmissionTickets.TicketRefusal.spent.rawValue
            }
            return nil
        }
    }
}
