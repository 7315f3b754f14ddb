import Domain
import Foundation
import LiveRuntime

/// `dealUpdates` and `orderUpdates`: each subscription first sends the current state, then the
/// state after each event that concerns it (events reach this replica's hub from every replica).
extension ShopResolver {
    struct DealUpdatesArguments: Codable, Sendable { let dealId: GraphID }
    struct OrderUpdatesArguments: Codable, Sendable { let orderId: GraphID }

    func dealUpdates(context: RequestContext, arguments: DealUpdatesArguments) async throws -> AsyncThrowingStream<DealNode, any Error> {
        let id = try DealID(validating: arguments.dealId.rawValue, field: "dealId")
        let hub = try Self.hub(context)
        guard try await context.shop.ports.catalog.deal(id) != nil else { throw ValidationError(field: "dealId", reason: "names no deal") }
        let events = await hub.subscribe { $0.deal == id }
        let shop = context.shop
        return Self.states(after: events) {
            // A context of its own per push: the loaders must not serve the previous counters.
            try await RequestContext(shop: shop, caller: nil, now: await shop.ports.clock.now()).deal(id)
        }
    }

    func orderUpdates(context: RequestContext, arguments: OrderUpdatesArguments) async throws -> AsyncThrowingStream<OrderNode, any Error> {
        let id = try OrderID(validating: arguments.orderId.rawValue, field: "orderId")
        let user = try Self.caller(context)
        let hub = try Self.hub(context)
        let orders = context.shop.ports.orders
        guard let order = try await orders.order(id), order.userID == user else {
            throw ValidationError(field: "orderId", reason: "names no order of yours")
        }
        let events = await hub.subscribe { $0.stream == .order(id) }
        return Self.states(after: events) { try await orders.order(id).map(OrderNode.init) }
    }

    static func hub(_ context: RequestContext) throws -> EventHub {
        guard let hub = context.hub else {
            throw ValidationError(field: "subscription", reason: "subscriptions are served over WebSocket on /graphql (graphql-transport-ws)")
        }
        return hub
    }

    /// The current state, then the state after each change, until the subscriber leaves.
    static func states<Node: Sendable>(
        after events: AsyncStream<EventHub.Change>, _ state: @escaping @Sendable () async throws -> Node?
    ) -> AsyncThrowingStream<Node, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task(executorPreference: ServerTasks.executor) {
                do {
                    if let node = try await state() { continuation.yield(node) }
                    for await _ in events {
                        if let node = try await state() { continuation.yield(node) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
