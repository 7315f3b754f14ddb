public import Domain
import Foundation
import LiveMongo

/// `flashdeal audit`: after a sale or a chaos drill, checks the shop's promise against the real
/// stores. The event store is replayed through the Domain's `Projection` (a gap or an event its
/// aggregate cannot take is a finding); each deal's gate in Redis must equal the replayed one, with
/// available + reserved + sold = total and nothing oversold; no order has more than one charge; and
/// every order a client was told was placed is in the event store and in MongoDB's `orders`,
/// equal to its replay, in a state the client's answers allow.
public struct SaleAudit: Sendable {
    let events: any EventStore
    let ledger: any StockLedger
    let orders: any OrderRepository

    public init(events: any EventStore, ledger: any StockLedger, orders: any OrderRepository) {
        self.events = events
        self.ledger = ledger
        self.orders = orders
    }

    /// What a client was told of an order, and the states that allows now.
    public struct Acknowledged: Sendable, Hashable {
        public var orderID: OrderID
        public var allowed: Set<OrderStatus>

        public init(orderID: OrderID, allowed: Set<OrderStatus>) {
            self.orderID = orderID
            self.allowed = allowed
        }

        /// Reads a client's log: lines holding `ORDER <id> <answer>`, the last answer of an order
        /// winning. Answers: `placed`, `declined` (reserved, or expired once its time is up),
        /// `payUnknown` (a payment whose answer was lost: reserved, paid or expired), `paid`,
        /// `cancelUnknown` (paid or refunded), `refunded`, `cancelled`.
        public static func parse(_ log: String) throws -> [Acknowledged] {
            var last: [OrderID: String] = [:]
            var order: [OrderID] = []
            for line in log.split(whereSeparator: \.isNewline) {
                guard let range = line.range(of: "ORDER ") else { continue }
                let words = line[range.upperBound...].split(separator: " ").map { String($0.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))) }
                guard words.count >= 2 else { continue }
                let id = try OrderID(validating: words[0], field: "order id in the client's log")
                if last[id] == nil { order.append(id) }
                last[id] = words[1]
            }
            return try order.map { id in
                let allowed: Set<OrderStatus>
                switch last[id] {
                case "placed", "declined": allowed = [.reserved, .expired]
                case "payUnknown": allowed = [.reserved, .paid, .expired]
                case "paid": allowed = [.paid]
                case "cancelUnknown": allowed = [.paid, .refunded, .reserved, .cancelled]
                case "refunded": allowed = [.refunded]
                case "cancelled": allowed = [.cancelled]
                case let answer: throw ValidationError(field: "client log", reason: "order \(id) has an unknown answer \(answer ?? "")")
                }
                return Acknowledged(orderID: id, allowed: allowed)
            }
        }
    }

    public struct Report: Sendable, Hashable, Codable {
        public var events = 0
        public var deals = 0
        public var acknowledged = 0
        /// The replay's error, when the log does not replay.
        public var replay: String?
        /// Acknowledged orders missing from the event store or from MongoDB's `orders`.
        public var lost: [String] = []
        /// Acknowledged orders in a state their answers do not allow, or whose MongoDB document
        /// differs from their replay.
        public var wrongState: [String] = []
        /// Deals whose Redis gate differs from the replay, breaks conservation or sold more than it had.
        public var gates: [String] = []
        /// Orders charged more than once, or paid without their charge.
        public var charges: [String] = []

        public var isClean: Bool { replay == nil && lost.isEmpty && wrongState.isEmpty && gates.isEmpty && charges.isEmpty }
    }

    public func run(acknowledged: [Acknowledged], pageSize: Int = 5000) async throws -> Report {
        var report = Report(acknowledged: acknowledged.count)
        var projection = Projection()
        var position = 0
        do {
            while true {
                let page = try await events.readAll(from: position, limit: pageSize)
                for stored in page { try projection.apply(stored.envelope) }
                report.events += page.count
                guard let last = page.last, page.count == pageSize else { break }
                position = last.position + 1
            }
            try projection.finish()
        } catch let error as ProjectionError {
            report.replay = error.description
            return report
        }
        let dealIDs = projection.deals.keys.sorted()
        report.deals = dealIDs.count
        let stocks = try await ledger.stocks(dealIDs)
        for id in dealIDs {
            guard let replayed = projection.gate(id)?.snapshot else { continue }
            guard let live = stocks[id] else { report.gates.append("\(id): in the event store, not in Redis"); continue }
            let i = live.inventory
            if i.available < 0 || i.reserved < 0 || i.sold < 0 || i.available + i.reserved + i.sold != i.total {
                report.gates.append("\(id): conservation broken in Redis: \(i.available) + \(i.reserved) + \(i.sold) ≠ \(i.total)")
            }
            if i.sold + i.reserved > i.total { report.gates.append("\(id): oversold: \(i.sold) sold + \(i.reserved) reserved of \(i.total)") }
            let r = replayed.inventory
            if (i.total, i.available, i.reserved, i.sold) != (r.total, r.available, r.reserved, r.sold) || live.status != replayed.status {
                report.gates.append("\(id): Redis \(live.status) \(i.available)/\(i.reserved)/\(i.sold) of \(i.total), replay \(replayed.status) \(r.available)/\(r.reserved)/\(r.sold) of \(r.total)")
            }
        }
        // Charges: at most one charged payment an order; a paid order's payment is its charge.
        let charged = Dictionary(grouping: projection.payments.values.filter { $0.status == .completed || $0.status == .refunded }, by: \.orderID)
        for (order, payments) in charged.sorted(by: { $0.key < $1.key }) where payments.count > 1 {
            report.charges.append("\(order): charged \(payments.count) times (\(payments.map(\.id.rawValue).sorted().joined(separator: ", ")))")
        }
        for order in projection.orders.values.sorted(by: { $0.id < $1.id }) where order.status == .paid {
            if order.paymentID.flatMap({ projection.payments[$0] })?.status != .completed {
                report.charges.append("\(order.id): paid without a completed payment")
            }
        }
        // Acknowledged orders, in the log and in MongoDB, as their answers allow.
        let stored = Dictionary(try await orders.orders(acknowledged.map(\.orderID)).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for ack in acknowledged {
            guard let replayed = projection.orders[ack.orderID] else { report.lost.append("\(ack.orderID): not in the event store"); continue }
            guard let document = stored[ack.orderID] else { report.lost.append("\(ack.orderID): not in MongoDB's orders"); continue }
            if document != replayed {
                report.wrongState.append("\(ack.orderID): MongoDB has \(document.status) v\(document.version), the log \(replayed.status) v\(replayed.version)")
            } else if !ack.allowed.contains(replayed.status) {
                report.wrongState.append("\(ack.orderID): \(replayed.status), the client's answers allow \(ack.allowed.map(\.rawValue).sorted())")
            }
        }
        return report
    }
}
