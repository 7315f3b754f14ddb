import Domain
import DomainMemory
import Testing

@Suite struct PaymentRaceTests {
    @Test func paymentConfirmsTheStock() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 5)])
        let order = try #require(try await sale.place("d-1", "u-1", 2, key: "k").order)
        guard case .paid(let paid) = try await sale.pay(order) else { Issue.record("not paid"); return }
        #expect(paid.status == .paid && paid.paymentID != nil)
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.sold == 2 && stock.inventory.reserved == 0 && stock.inventory.available == 3)
    }

    /// Race: the provider completes the charge after the reservation expired. The payment is
    /// refunded and the units, already back on the shelf and taken by someone else, stay theirs.
    @Test func latePaymentNeverOversells() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 1, limit: 1, ttl: .seconds(60), window: .seconds(60))])
        let late = try #require(try await sale.place("d-1", "u-1", key: "k").order)
        // While the provider thinks, the reservation lapses and another buyer takes the unit.
        let clock = sale.memory.clock
        let shop = sale.shop
        await sale.memory.gateway.setDuringCharge {
            await clock.advance(by: .seconds(61))
            _ = try? await shop.expireReservations()
            _ = try? await shop.placeOrder(PlaceOrderCommand(dealID: "d-1", userID: "u-2", quantity: 1, idempotencyKey: "k"))
        }
        await clock.advance(by: .seconds(30))
        let outcome = try await sale.pay(late)
        guard case .reservationExpired(let order, refunded: true) = outcome else {
            Issue.record("late payment gave \(outcome)"); return
        }
        #expect(order.status == .expired)
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.sold == 0 && stock.inventory.reserved == 1 && stock.inventory.total == 1)
        let refunds = await sale.memory.gateway.refunds
        #expect(refunds.count == 1)
    }

    /// Race: the charge completes after expiry but before any sweeper ran: the ledger itself
    /// refuses to confirm a due reservation.
    @Test func latePaymentIsRefusedEvenBeforeTheSweeperRuns() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 1, limit: 1, ttl: .seconds(60), window: .seconds(60))])
        let order = try #require(try await sale.place("d-1", "u-1", key: "k").order)
        let clock = sale.memory.clock
        await sale.memory.gateway.setDuringCharge { await clock.advance(by: .seconds(120)) }
        guard case .reservationExpired(let expired, refunded: true) = try await sale.pay(order) else {
            Issue.record("late payment was not refused"); return
        }
        #expect(expired.status == .expired)
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.sold == 0 && stock.inventory.available == 1 && stock.status == .live)
    }

    @Test func paymentAfterExpiryIsNotCharged() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 1, ttl: .seconds(60), window: .seconds(30))])
        let order = try #require(try await sale.place("d-1", "u-1", key: "k").order)
        await sale.memory.clock.advance(by: .seconds(45))
        #expect(try await sale.pay(order) == .paymentWindowClosed(order))
        await sale.memory.clock.advance(by: .seconds(30))
        guard case .reservationExpired(_, refunded: false) = try await sale.pay(order, key: "pay-2") else {
            Issue.record("expected expiry"); return
        }
        #expect(await sale.memory.gateway.charged.isEmpty)
    }

    /// Race: a retried payment with the same key returns the first outcome and charges once.
    @Test func retriedPaymentReturnsTheFirstOutcome() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 5)])
        let order = try #require(try await sale.place("d-1", "u-1", key: "k").order)
        let first = try await sale.pay(order, key: "pay")
        let eventsAfterFirst = await sale.memory.events.count
        let again = try await sale.pay(order, key: "pay")
        #expect(first == again)
        #expect(await sale.memory.events.count == eventsAfterFirst)
        #expect(await sale.memory.gateway.charged.count == 1)
    }

    @Test func declinedPaymentKeepsTheReservation() async throws {
        let sale = SaleFixture(declineRate: 1)
        try await sale.open([SaleFixture.terms("d-1", stock: 5)])
        let order = try #require(try await sale.place("d-1", "u-1", key: "k").order)
        guard case .paymentDeclined(let kept, _) = try await sale.pay(order) else { Issue.record("not declined"); return }
        #expect(kept.status == .reserved)
        #expect(try await sale.stock("d-1").inventory.reserved == 1)
    }

    @Test func cancelAfterPaymentReturnsStockAndRefunds() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 1, limit: 1)])
        let order = try #require(try await sale.place("d-1", "u-1", key: "k").order)
        guard case .paid(let paid) = try await sale.pay(order) else { Issue.record("not paid"); return }
        #expect(try await sale.stock("d-1").status == .soldOut)
        guard case .refunded(let refunded) = try await sale.cancel(paid) else { Issue.record("not refunded"); return }
        #expect(refunded.status == .refunded)
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.sold == 0 && stock.inventory.available == 1 && stock.status == .live)
        #expect(await sale.memory.gateway.refunds[paid.paymentID!] == Money(minorUnits: 9900))
        #expect(try await sale.cancel(paid) == .notCancellable(refunded))
    }

    /// Race: releasing or expiring twice releases once.
    @Test func releasingOrExpiringTwiceReleasesOnce() async throws {
        let sale = SaleFixture()
        try await sale.open([SaleFixture.terms("d-1", stock: 3, ttl: .seconds(60), window: .seconds(60))])
        let cancelled = try #require(try await sale.place("d-1", "u-1", key: "k1").order)
        let expiring = try #require(try await sale.place("d-1", "u-2", key: "k1").order)
        _ = try await sale.cancel(cancelled)
        #expect(try await sale.memory.ledger.release("d-1", cancelled.id, at: SaleFixture.start).isEmpty)
        if case .cancelled = try await sale.cancel(cancelled) { Issue.record("cancelled twice") }
        await sale.memory.clock.advance(by: .seconds(61))
        #expect(try await sale.shop.expireReservations() == [expiring.id])
        #expect(try await sale.shop.expireReservations() == [])
        #expect(try await sale.memory.ledger.expire("d-1", expiring.id, at: SaleFixture.start + .seconds(100)).isEmpty)
        #expect(try await sale.memory.ledger.release("d-1", expiring.id, at: SaleFixture.start + .seconds(100)).isEmpty)
        let stock = try await sale.stock("d-1")
        #expect(stock.inventory.available == 3 && stock.inventory.total == 3)
    }
}
