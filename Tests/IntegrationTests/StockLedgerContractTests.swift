import Domain
import DomainMemory
import Foundation
import Testing

/// One contract for every stock ledger: random operations applied to the ledger and to the
/// Domain's pure `StockGate` must give the same decisions, the same events with the same
/// sequence numbers, and the same counters. Run against the in-memory actor and the Redis script.
@Suite struct StockLedgerContractTests {
    enum Kind: String, CaseIterable, Sendable { case memory, redis }

    static func ledger(_ kind: Kind) async throws -> any StockLedger {
        switch kind {
        case .memory: InMemoryStockLedger()
        case .redis: try await Backends.redisLedger()
        }
    }

    static var kinds: [Kind] { Backends.redisURL == nil ? [.memory] : Kind.allCases }

    /// A page of deals' counters in one call agrees with reading them one by one.
    @Test(arguments: kinds)
    func stocksOfSeveralDealsMatchOneByOne(_ kind: Kind) async throws {
        let ledger = try await Self.ledger(kind)
        for (n, stock) in [3, 5].enumerated() {
            _ = try await ledger.create(try DealTerms(
                id: DealID("page-\(n)"), productID: "p", price: Money(minorUnits: 1), startsAt: .seconds(0), endsAt: .seconds(100),
                perUserLimit: 1, reservationTTL: .seconds(10), paymentWindow: .seconds(5), initialStock: stock))
        }
        _ = try await ledger.start("page-1", at: .seconds(1))
        let page = try await ledger.stocks(["page-0", "page-1", "missing"])
        #expect(page.count == 2)
        let first = try await ledger.stock("page-0"), second = try await ledger.stock("page-1")
        #expect(page["page-0"] == first && page["page-1"] == second)
        #expect(page["page-1"]?.status == .live && page["page-0"]?.inventory.total == 3)
    }

    @Test(arguments: kinds)
    func randomOperationsMatchTheDomain(_ kind: Kind) async throws {
        let ledger = try await Self.ledger(kind)
        var walk = ContractWalk(ledger: ledger, seed: 42)
        try await walk.run(steps: 1500)
    }

    @Test(arguments: kinds)
    func duplicatesAndSoldOutAreAtomicUnderConcurrency(_ kind: Kind) async throws {
        let ledger = try await Self.ledger(kind)
        let start = Instant.seconds(1_800_000_000)
        let terms = try DealTerms(
            id: "hot", productID: "p", price: Money(minorUnits: 100), startsAt: start, endsAt: start + .seconds(3600),
            perUserLimit: 2, reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 100)
        _ = try await ledger.create(terms)
        _ = try await ledger.start("hot", at: start)
        let decisions = try await withThrowingTaskGroup(of: ReserveDecision.self) { group in
            for i in 0..<500 {
                group.addTask {
                    let request = ReserveRequest(
                        orderID: OrderID("o-\(i)"), userID: UserID("u-\(i % 200)"), quantity: 1,
                        idempotencyKey: IdempotencyKey("k-\(i % 400)"), expiresAt: start + .seconds(600))
                    return try await ledger.reserve("hot", request, at: start + .seconds(1)).decision
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let reserved = decisions.filter { if case .reserve = $0 { return true } else { return false } }.count
        let stock = try #require(try await ledger.stock("hot"))
        #expect(reserved == 100 && stock.inventory.available == 0 && stock.inventory.reserved == 100)
        #expect(stock.status == .soldOut)
    }
}

/// Random operations on two deals, each checked against the pure reference.
struct ContractWalk {
    let ledger: any StockLedger
    var random: SeededGenerator
    var reference: [DealID: StockGate] = [:]
    var orders: [(DealID, OrderID)] = []
    var now = Instant.seconds(1_800_000_000)
    var nextOrder = 0
    /// The buyer rules the walk's reservations ran into.
    var buyerRulesMet: Set<String> = []

    init(ledger: any StockLedger, seed: UInt64) {
        self.ledger = ledger
        random = SeededGenerator(seed: seed)
    }

    mutating func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }

    mutating func run(steps: Int) async throws {
        // deal-a: a cool-down after a cancellation (some reservations come while it runs, some
        // after); deal-b: a cap of three unpaid reservations per buyer as well.
        for (id, stock, startsIn, cap, coolDown) in [(DealID("deal-a"), 6, 0, 0, Duration.milliseconds(7_250)), (DealID("deal-b"), 0, 30, 3, .seconds(3))] {
            let terms = try DealTerms(
                id: id, productID: "p", price: Money(minorUnits: 100), startsAt: now + .seconds(Int64(startsIn)),
                endsAt: now + .seconds(4000), perUserLimit: 2, reservationTTL: .seconds(60), paymentWindow: .seconds(40),
                initialStock: stock, reservationCap: cap, cancelCoolDown: coolDown)
            let (gate, events) = StockGate.create(terms)
            reference[id] = gate
            #expect(try await ledger.create(terms) == events)
            #expect(try await ledger.create(terms) == [], "creating twice changes nothing")
        }
        #expect(try await compareStart("deal-a"))
        for step in 0..<steps {
            let deal: DealID = below(3) == 0 ? "deal-b" : "deal-a"
            let ok: Bool
            switch below(100) {
            case ..<40:
                nextOrder += 1
                let request = ReserveRequest(
                    orderID: OrderID("o-\(nextOrder)"), userID: UserID("u-\(below(5))"), quantity: below(4),
                    // Half the keys from a small set (retries), half new ones (a buyer's next order).
                    idempotencyKey: IdempotencyKey(below(2) == 0 ? "k-\(below(8))" : "k-new-\(nextOrder)"), expiresAt: now + .seconds(60))
                let (decision, change) = reference[deal]!.decideReserve(request, at: now)
                let expected = reference[deal]!.apply(change)
                let got = try await ledger.reserve(deal, request, at: now)
                if case .reserve = decision { orders.append((deal, request.orderID)) }
                if case .coolingDown = decision { buyerRulesMet.insert("coolingDown") }
                if case .reservationCapReached = decision { buyerRulesMet.insert("reservationCapReached") }
                ok = got.decision == decision && got.events == expected
            case ..<55 where !orders.isEmpty:
                let (d, order) = orders[below(orders.count)]
                let (decision, change) = reference[d]!.decideConfirm(order, at: now)
                let expected = reference[d]!.apply(change)
                let got = try await ledger.confirm(d, order, at: now)
                ok = got.decision == decision && got.events == expected
            case ..<65 where !orders.isEmpty:
                let (d, order) = orders[below(orders.count)]
                let expected = reference[d]!.apply(reference[d]!.decideRelease(order, at: now))
                ok = try await ledger.release(d, order, at: now) == expected
            case ..<72 where !orders.isEmpty:
                let (d, order) = orders[below(orders.count)]
                let expected = reference[d]!.apply(reference[d]!.decideReturn(order, at: now))
                ok = try await ledger.returnSold(d, order, at: now) == expected
            case ..<85:
                now = now + .seconds(Int64(1 + below(20)))
                var expectedDue: Set<DueReservation> = []
                for id in reference.keys { for o in reference[id]!.inventory.dueReservations(at: now) { expectedDue.insert(DueReservation(dealID: id, orderID: o)) } }
                let due = try await ledger.dueReservations(at: now, limit: 10_000)
                var same = Set(due) == expectedDue
                for d in due {
                    let expected = reference[d.dealID]!.apply(reference[d.dealID]!.decideExpire(d.orderID, at: now))
                    same = try await ledger.expire(d.dealID, d.orderID, at: now) == expected && same
                }
                ok = same
            case ..<92:
                let quantity = below(10) == 0 ? Int(Int32.max) : 1 + below(3)
                let expected: Result<[SequencedEvent], ValidationError>
                do { expected = .success(reference[deal]!.apply(try reference[deal]!.decideRestock(quantity, at: now))) } catch { expected = .failure(error) }
                do {
                    let got = try await ledger.restock(deal, quantity: quantity, at: now)
                    ok = expected == .success(got)
                } catch let error as ValidationError {
                    ok = expected == .failure(error)
                }
            case ..<97:
                ok = try await compareStart(deal)
            default:
                // Rarely: an ended deal refuses every reservation, so the walk must spend most of
                // its steps before that.
                if below(25) == 0 {
                    let expected = reference[deal]!.apply(reference[deal]!.decideEnd(at: now))
                    ok = try await ledger.end(deal, at: now) == expected
                } else {
                    ok = true
                }
            }
            let counters = try await ledger.stock(deal)
            guard ok, counters == reference[deal]!.snapshot else {
                Issue.record("step \(step) on \(deal): ledger and Domain disagree (ledger \(String(describing: counters)), Domain \(reference[deal]!.snapshot))")
                return
            }
            #expect(reference[deal]!.inventory.checkInvariants().isEmpty)
        }
        #expect(buyerRulesMet == ["coolingDown", "reservationCapReached"], "the walk met both buyer rules: \(buyerRulesMet)")
    }

    mutating func compareStart(_ deal: DealID) async throws -> Bool {
        let expected = reference[deal]!.apply(reference[deal]!.decideStart(at: now))
        return try await ledger.start(deal, at: now) == expected
    }
}
