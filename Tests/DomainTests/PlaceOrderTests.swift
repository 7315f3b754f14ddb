import Domain
import DomainMemory
import Testing

@Suite struct PlaceOrderTests {
    @Test func reservesTheWholeQuantityOrNothing() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 3, limit: 2)])
        #expect(try await sale.place("d-1", "u-1", 2, key: "k1").order != nil)
        #expect(try await sale.place("d-1", "u-2", 2, key: "k2") == .soldOut(available: 1))
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.available == 1 && stock.inventory.reserved == 2 && stock.status == .live)
    }

    @Test func perUserLimitCountsOpenAndPaidOrders() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 10, limit: 2)])
        let first = try #require(try await sale.place("d-1", "u-1", 1, key: "k1").order)
        guard case .paid = try await sale.pay(first) else { Issue.record("not paid"); return }
        #expect(try await sale.place("d-1", "u-1", 1, key: "k2").order != nil)
        #expect(try await sale.place("d-1", "u-1", 1, key: "k3") == .limitExceeded(limit: 2, remaining: 0))
        #expect(try await sale.place("d-1", "u-2", 2, key: "k1").order != nil)
    }

    @Test func cancelledOrderFreesTheLimit() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 10, limit: 1)])
        let order = try #require(try await sale.place("d-1", "u-1", 1, key: "k1").order)
        #expect(try await sale.place("d-1", "u-1", 1, key: "k2") == .limitExceeded(limit: 1, remaining: 0))
        guard case .cancelled = try await sale.cancel(order) else { Issue.record("not cancelled"); return }
        #expect(try await sale.place("d-1", "u-1", 1, key: "k2").order != nil)
    }

    @Test func aBuyerWhoCancelledCoolsDownBeforeReservingAgain() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 10, limit: 1, coolDown: .seconds(10))])
        let order = try #require(try await sale.place("d-1", "u-1", 1, key: "k1").order)
        await sale.memory.clock.advance(by: .seconds(2))
        guard case .cancelled = try await sale.cancel(order) else { Issue.record("not cancelled"); return }
        await sale.memory.clock.advance(by: .seconds(4))
        #expect(try await sale.place("d-1", "u-1", 1, key: "k2") == .coolingDown(retryAfter: .seconds(6)), "ten seconds from the cancellation")
        #expect(try await sale.place("d-1", "u-1", 1, key: "k1").order?.id == order.id, "a retry of the first request still answers with its order")
        #expect(try await sale.place("d-1", "u-2", 1, key: "k2").order != nil, "another buyer is not cooling down")
        await sale.memory.clock.advance(by: .seconds(6))
        #expect(try await sale.place("d-1", "u-1", 1, key: "k3").order != nil, "the cool-down is over")
    }

    @Test func aBuyerOpensAtMostTheCapOfUnpaidReservationsAcrossCancellations() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 10, limit: 2, reservationCap: 2)])
        // Place and cancel, twice: the cap counts reservations opened, whatever became of them.
        for key in ["k1", "k2"] {
            let order = try #require(try await sale.place("d-1", "u-1", 1, key: IdempotencyKey(key)).order)
            guard case .cancelled = try await sale.cancel(order) else { Issue.record("not cancelled"); return }
        }
        #expect(try await sale.place("d-1", "u-1", 1, key: "k3") == .reservationCapReached(cap: 2))
        // A paid reservation does not count: a buyer who pays is not the one the cap stops.
        let other = try #require(try await sale.place("d-1", "u-2", 1, key: "k1").order)
        guard case .paid = try await sale.pay(other) else { Issue.record("not paid"); return }
        let again = try #require(try await sale.place("d-1", "u-2", 1, key: "k2").order, "u-2 has opened one unpaid, the paid one freed its slot")
        #expect(again.quantity == 1)
        let stock = await sale.memory.ledger.gate("d-1")
        #expect(stock?.inventory.unpaidReservations == ["u-1": 2, "u-2": 1] && stock?.inventory.checkInvariants() == [])
    }

    @Test(arguments: [0, 3, -1])
    func quantityOutsideOneToLimitIsInvalid(_ quantity: Int) async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 10, limit: 2)])
        guard case .invalidInput(let error) = try await sale.place("d-1", "u-1", quantity, key: "k") else {
            Issue.record("accepted quantity \(quantity)"); return
        }
        #expect(error.field == "quantity")
    }

    @Test func dealMustBeLive() async throws {
        let sale = SaleFixture()
        let later = SaleFixture.terms("d-2", stock: 5, startsAt: SaleFixture.start + .seconds(60))
        try await sale.open([later])
        #expect(try await sale.place("d-2", "u-1", key: "k") == .dealNotActive(.scheduled))
        #expect(try await sale.place("nope", "u-1", key: "k") == .dealNotFound("nope"))
        await sale.memory.clock.advance(by: .seconds(61))
        _ = try await sale.shop.runSchedule()
        #expect(try await sale.place("d-2", "u-1", key: "k").order != nil)
        _ = try await sale.shop.endDeal("d-2")
        #expect(try await sale.place("d-2", "u-1", key: "k2") == .dealNotActive(.ended))
    }

    @Test func soldOutIsReachedAutomaticallyAndReopened() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 2, limit: 2)])
        let order = try #require(try await sale.place("d-1", "u-1", 2, key: "k").order)
        #expect(try await sale.stock("d-1").status == .soldOut)
        _ = try await sale.cancel(order)
        #expect(try await sale.stock("d-1").status == .live)
        _ = try await sale.place("d-1", "u-2", 2, key: "k")
        #expect(try await sale.stock("d-1").status == .soldOut)
        _ = try await sale.shop.restock("d-1", quantity: 3)
        let stock = try await sale.stock("d-1")
        #expect(stock.status == .live && stock.inventory.total == 5 && stock.inventory.available == 3)
    }

    @Test func dealWithoutStockStartsSoldOut() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 0)])
        #expect(try await sale.stock("d-1").status == .soldOut)
        #expect(try await sale.place("d-1", "u-1", key: "k") == .dealNotActive(.soldOut))
    }

    /// Race: a retried command with the same key returns the first result and changes nothing.
    @Test func retryWithSameKeyReturnsTheFirstOrder() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 10, limit: 2)])
        let first = try #require(try await sale.place("d-1", "u-1", 1, key: "k1").order)
        let eventsBefore = await sale.memory.events.count
        let stockBefore = try await sale.stock("d-1")
        let retry = try await sale.place("d-1", "u-1", 1, key: "k1")
        #expect(retry == .placed(first))
        #expect(try await sale.stock("d-1") == stockBefore)
        #expect(await sale.memory.events.count == eventsBefore)
        // The same key from another user is another command.
        #expect(try await sale.place("d-1", "u-2", 1, key: "k1").order?.id != first.id)
    }

    /// Race: concurrent duplicates with one key create one order.
    @Test func concurrentDuplicatesCreateOneOrder() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 10, limit: 2)])
        let outcomes = try await withThrowingTaskGroup(of: PlaceOrderOutcome.self) { group in
            for _ in 0..<20 { group.addTask { try await sale.place("d-1", "u-1", 1, key: "same") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(outcomes.compactMap { $0.order?.id }).count == 1)
        #expect(try await sale.stock("d-1").inventory.reserved == 1)
        #expect(await sale.memory.orders.all().count == 1)
    }

    @Test func manyBuyersNeverOversell() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 100, limit: 2)])
        let placed = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<500 {
                group.addTask {
                    let outcome = try await sale.place("d-1", UserID("u-\(i % 200)"), 1 + i % 2, key: IdempotencyKey("k-\(i)"))
                    return outcome.order?.quantity ?? 0
                }
            }
            return try await group.reduce(0, +)
        }
        let stock = try await sale.stock("d-1")
        #expect(placed == 100 && stock.inventory.reserved == 100 && stock.inventory.available == 0)
        let gate = try #require(await sale.memory.ledger.gate("d-1"))
        #expect(gate.inventory.checkInvariants().isEmpty)
        #expect(gate.inventory.holdings.values.allSatisfy { $0 <= 2 })
    }
}
