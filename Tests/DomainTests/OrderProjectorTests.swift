import Domain
import DomainMemory
import Testing

/// The writer's order read model does not depend on arrival order: every permutation of an
/// order's events, cut into batches every possible way (and with the whole stream delivered again
/// after), rebuilds the same document as replaying the stream in order.
@Suite struct OrderProjectorTests {
    static let at = Instant.seconds(1_700_000_000)
    static let placed = OrderPlaced(
        orderID: "o-1", dealID: "d-1", userID: "u-1", quantity: 1, unitPrice: Money(minorUnits: 500), idempotencyKey: "k",
        placedAt: at, expiresAt: at + .seconds(600), paymentDeadline: at + .seconds(300))

    /// The lifecycles an order can have, as its events.
    static let lifecycles: [String: [OrderEvent]] = [
        "paid": [.placed(placed), .paid(OrderPaid(orderID: "o-1", paymentID: "p-1", at: at + .seconds(10)))],
        "refunded": [
            .placed(placed), .paid(OrderPaid(orderID: "o-1", paymentID: "p-1", at: at + .seconds(10))),
            .refunded(OrderRefunded(orderID: "o-1", paymentID: "p-1", at: at + .seconds(20))),
        ],
        "cancelled": [.placed(placed), .cancelled(OrderCancelled(orderID: "o-1", at: at + .seconds(5)))],
        "expired": [.placed(placed), .expired(OrderExpired(orderID: "o-1", at: at + .seconds(600)))],
    ]

    @Test(arguments: lifecycles.keys.sorted())
    func everyArrivalOrderAndBatchingGivesTheSameOrder(_ lifecycle: String) async throws {
        let events = try #require(Self.lifecycles[lifecycle]).enumerated().map { offset, event in
            EventEnvelope(aggregateID: .order("o-1"), sequence: offset + 1, occurredAt: Self.at, payload: .order(event))
        }
        let expected = try Order(replaying: events.map { envelope in
            guard case .order(let event) = envelope.payload else { preconditionFailure() }
            return (envelope.sequence, event)
        })
        var cases = 0
        for permutation in Self.permutations(events) {
            for batches in Self.cuts(permutation) {
                for redeliver in [false, true] {
                    let store = InMemoryEventStore(), orders = InMemoryOrderRepository()
                    let projector = OrderProjector(events: store, readModel: .orders(orders))
                    for batch in batches + (redeliver ? [events] : []) {
                        try await store.append(batch, expected: .any)
                        let failures = try await projector.project(batch)
                        #expect(failures.isEmpty)
                    }
                    let order = try await orders.order("o-1")
                    #expect(order == expected, "\(permutation.map(\.type)) in batches \(batches.map { $0.map(\.sequence) })")
                    cases += 1
                }
            }
        }
        #expect(cases == Self.permutations(events).count * (1 << (events.count - 1)) * 2)
    }

    static let requested = PaymentRequested(paymentID: "p-1", orderID: "o-1", amount: Money(minorUnits: 500), idempotencyKey: "k", at: at)
    static let paymentLifecycles: [String: [PaymentEvent]] = [
        "refunded": [
            .requested(requested), .completed(PaymentCompleted(paymentID: "p-1", orderID: "o-1", at: at + .seconds(1))),
            .refunded(PaymentRefunded(paymentID: "p-1", orderID: "o-1", amount: Money(minorUnits: 500), at: at + .seconds(2))),
        ],
        "failed": [.requested(requested), .failed(PaymentFailed(paymentID: "p-1", orderID: "o-1", reason: "declined", at: at + .seconds(1)))],
    ]

    /// Payments reach their read model the same way, with the same code.
    @Test(arguments: paymentLifecycles.keys.sorted())
    func paymentsToo(_ lifecycle: String) async throws {
        let events = try #require(Self.paymentLifecycles[lifecycle]).enumerated().map { offset, event in
            EventEnvelope(aggregateID: .payment("p-1"), sequence: offset + 1, occurredAt: Self.at, payload: .payment(event))
        }
        let expected = try Payment(replaying: events.compactMap { Payment.event($0).map { ($0.event) } }.enumerated().map { ($0.offset + 1, $0.element) })
        for permutation in Self.permutations(events) {
            for batches in Self.cuts(permutation) {
                let store = InMemoryEventStore(), payments = InMemoryPaymentRepository()
                let projector = Projector<Payment>(events: store, readModel: .payments(payments))
                for batch in batches {
                    try await store.append(batch, expected: .any)
                    _ = try await projector.project(batch)
                }
                #expect(try await payments.payment("p-1") == expected, "\(permutation.map(\.type)) in \(batches.map { $0.map(\.sequence) })")
            }
        }
    }

    /// A stream that breaks the order's rules (paid after it was cancelled) is reported, not
    /// trapped on, and the document stays as it was.
    @Test func aStreamThatDoesNotReplayIsReportedNotTrappedOn() async throws {
        let store = InMemoryEventStore(), orders = InMemoryOrderRepository()
        let projector = OrderProjector(events: store, readModel: .orders(orders))
        let bad: [OrderEvent] = [
            .placed(Self.placed), .cancelled(OrderCancelled(orderID: "o-1", at: Self.at)),
            .paid(OrderPaid(orderID: "o-1", paymentID: "p-1", at: Self.at)),
        ]
        let batch = bad.enumerated().map { EventEnvelope(aggregateID: .order("o-1"), sequence: $0.offset + 1, occurredAt: Self.at, payload: .order($0.element)) }
        try await store.append(batch, expected: .any)
        let failures = try await projector.project(batch)
        #expect(failures.keys.sorted() == ["o-1"] && failures["o-1"]?.from == 3, "the payment of a cancelled order is the first that does not replay")
        #expect(try await orders.order("o-1").map { ($0.status, $0.version) } ?? (.reserved, 0) == (.cancelled, 2), "saved as far as it replays")
    }

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { i -> [[T]] in
            var rest = items
            let first = rest.remove(at: i)
            return permutations(rest).map { [first] + $0 }
        }
    }

    /// Every way to cut `items` into consecutive non-empty batches.
    static func cuts<T>(_ items: [T]) -> [[[T]]] {
        (0..<(1 << max(0, items.count - 1))).map { mask in
            var batches: [[T]] = [[]]
            for (i, item) in items.enumerated() {
                if i > 0, mask & (1 << (i - 1)) != 0 { batches.append([]) }
                batches[batches.count - 1].append(item)
            }
            return batches
        }
    }
}
