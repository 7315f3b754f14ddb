import Domain
import DomainMemory
import Foundation
import LiveRedis
import Logging
import Synchronization
import Testing

/// The relay never drops an acknowledged order: a reservation whose deal terms cannot be read
/// (the catalogue down) waits in the journal and is sent once they can; only an entry no retry can
/// read goes to the dead stream, whole, and `OutboxDeadLetters.redrive` puts it back.
@Suite(.enabled(if: Backends.redisURL != nil))
struct OutboxRelayTests {
    let prefix = Backends.uniquePrefix()
    let start = Instant.seconds(1_800_000_000)

    func terms(_ id: DealID) throws -> DealTerms {
        try DealTerms(
            id: id, productID: "p", price: Money(minorUnits: 100), startsAt: start, endsAt: start + .seconds(3600),
            perUserLimit: 2, reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 10)
    }

    func relay(_ pool: RedisPool, catalog: any DealCatalog, sink: RecordingSink) -> OutboxRelay {
        var configuration = OutboxRelay.Configuration()
        configuration.prefix = prefix
        configuration.retry = .milliseconds(50)
        configuration.maximumRetry = .milliseconds(200)
        return OutboxRelay(pool: pool, sink: sink, catalog: catalog, configuration: configuration, logger: Logger(label: "test"))
    }

    @Test func aReservationWaitsWhileTheCatalogueFailsAndIsSentWhenItAnswers() async throws {
        let pool = try await Backends.redisPool()
        let ledger = try await RedisStockLedger(pool: pool, prefix: prefix)
        let backing = InMemoryDealCatalog()
        let deal: DealID = "relay-wait"
        try await backing.add(try terms(deal))
        _ = try await ledger.create(try terms(deal))
        _ = try await ledger.start(deal, at: start)
        let catalog = FlakyCatalog(backing: backing)
        let sink = RecordingSink()
        let relay = relay(pool, catalog: catalog, sink: sink)
        _ = try await relay.relayOnce()  // the deal's creation and start
        let request = ReserveRequest(orderID: "o-wait", userID: "u-1", quantity: 1, idempotencyKey: "k-1", expiresAt: start + .seconds(600))
        _ = try await ledger.reserve(deal, request, at: start + .seconds(1))

        catalog.failing(true)
        for _ in 0..<3 {
            _ = try await relay.relayOnce()
            try await Task.sleep(for: .milliseconds(60))
        }
        #expect(!sink.orders.contains("o-wait"), "no order without its terms")
        #expect(try await relay.deadLetters.list().isEmpty, "a failing catalogue is not a malformed entry")
        let waiting = try await relay.depth(now: start)
        #expect(waiting.entries == 1 && waiting.deadLetters == 0, "the reservation waits in the journal: \(waiting)")

        catalog.failing(false)
        let deadline = ContinuousClock.now + .seconds(5)
        while !sink.orders.contains("o-wait"), ContinuousClock.now < deadline {
            _ = try await relay.relayOnce()
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sink.orders == ["o-wait"], "placed once the terms can be read")
        #expect(try await relay.depth(now: start).entries == 0, "and the entry left the journal")
    }

    @Test func aMalformedEntryIsDeadLetteredWholeAndCanBeRedriven() async throws {
        let pool = try await Backends.redisPool()
        let sink = RecordingSink()
        let relay = relay(pool, catalog: InMemoryDealCatalog(), sink: sink)
        let outbox = RedisOutbox(pool: pool, prefix: prefix)
        _ = try await pool.send(["XADD", outbox.key, "*", "events", "not json", "note", "kept"])
        let good = EventEnvelope(
            aggregateID: .payment("p-1"), sequence: 1, occurredAt: start,
            payload: .payment(.failed(PaymentFailed(paymentID: "p-1", orderID: "o-1", reason: "declined", at: start))))
        try await outbox.append([good], expected: .any)

        _ = try await relay.relayOnce()
        #expect(sink.events.map(\.eventID) == ["payment/p-1#1"], "the readable entry behind it is sent")
        let letters = try await relay.deadLetters.list()
        #expect(letters.count == 1)
        let letter = try #require(letters.first)
        #expect(letter.stream == outbox.key && letter.fields == ["events": "not json", "note": "kept"], "kept whole: \(letter)")
        #expect(letter.reason.contains("do not decode"))
        #expect(try await relay.depth(now: start) == OutboxDepth(entries: 0, oldestAge: .zero, deadLetters: 1))

        await #expect(throws: RedisError.self, "an unknown letter id is named") { try await relay.deadLetters.redrive(["0-1"]) }
        let redriven = try await relay.deadLetters.redrive([letter.id])
        #expect(redriven.map(\.id) == [letter.id])
        #expect(try await relay.deadLetters.list().isEmpty)
        let back = try await pool.send(["XLEN", outbox.key])
        #expect(back == .integer(1), "the entry is on its stream again")
        _ = try await relay.relayOnce()
        #expect(try await relay.deadLetters.list().map(\.fields) == [letter.fields], "and, still unreadable, dead-lettered again whole")
    }

    @Test func backOffDoublesToItsBound() {
        let c = OutboxRelay.Configuration()
        let delays = [1, 2, 4, 60].map { OutboxRelay.backOff($0, base: c.retry, maximum: c.maximumRetry) }
        #expect(delays == [.milliseconds(500), .seconds(1), .seconds(4), .seconds(30)])
    }
}

/// A catalogue that fails every read while told to (MongoDB down, nothing cached).
final class FlakyCatalog: DealCatalog {
    let backing: any DealCatalog
    let fails = Mutex(false)
    init(backing: any DealCatalog) { self.backing = backing }
    func failing(_ value: Bool) { fails.withLock { $0 = value } }
    func check() throws { if fails.withLock({ $0 }) { throw CatalogDown() } }
    func add(_ product: Product) async throws { try await backing.add(product) }
    func add(_ terms: DealTerms) async throws { try await backing.add(terms) }
    func product(_ id: ProductID) async throws -> Product? { try check(); return try await backing.product(id) }
    func products(_ ids: [ProductID]) async throws -> [Product] { try check(); return try await backing.products(ids) }
    func deal(_ id: DealID) async throws -> DealTerms? { try check(); return try await backing.deal(id) }
    func deals(_ ids: [DealID]) async throws -> [DealTerms] { try check(); return try await backing.deals(ids) }
    func deals(after: DealID?, limit: Int) async throws -> [DealTerms] { try check(); return try await backing.deals(after: after, limit: limit) }
    struct CatalogDown: Error {}
}

/// Records what the relay sends.
final class RecordingSink: EventPublisher {
    let sent = Mutex<[EventEnvelope]>([])
    func publish(_ events: [EventEnvelope]) async throws { sent.withLock { $0 += events } }
    var events: [EventEnvelope] { sent.withLock { $0 } }
    var orders: [OrderID] {
        events.compactMap { if case .order(.placed(let placed)) = $0.payload { placed.orderID } else { nil } }
    }
}
