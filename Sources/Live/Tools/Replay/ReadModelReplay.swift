public import Domain
import Foundation
public import LiveMongo
public import LiveRedis

/// `flashdeal replay`: rebuilds the read models from the event store, the source of truth: every
/// deal's stock gate in Redis and every order in MongoDB. The event log is replayed through the
/// Domain's `Projection`, so the rebuilt state is exactly what the events say.
public struct ReadModelReplay: Sendable {
    let events: any EventStore
    let ledger: RedisStockLedger
    let orders: MongoOrderRepository

    public init(events: any EventStore, ledger: RedisStockLedger, orders: MongoOrderRepository) {
        self.events = events
        self.ledger = ledger
        self.orders = orders
    }

    public struct Summary: Sendable, Hashable {
        public var events: Int
        public var deals: Int
        public var orders: Int
    }

    /// Replays the whole log and replaces the read models with the result.
    public func run(pageSize: Int = 5000) async throws -> Summary {
        var projection = Projection()
        var position = 0, count = 0
        while true {
            let page = try await events.readAll(from: position, limit: pageSize)
            for stored in page { try projection.apply(stored.envelope) }
            count += page.count
            guard let last = page.last, page.count == pageSize else { break }
            position = last.position + 1
        }
        try projection.finish()
        var deals = 0
        for id in projection.deals.keys.sorted() {
            guard let gate = projection.gate(id) else { continue }
            try await ledger.restore(gate)
            deals += 1
        }
        try await orders.removeAll()
        for order in projection.orders.values.sorted(by: { $0.id < $1.id }) {
            try await orders.save(order, expectedVersion: 0)
        }
        return Summary(events: count, deals: deals, orders: projection.orders.count)
    }
}
