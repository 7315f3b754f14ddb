import Domain
import DomainMemory
import Synchronization
import Testing

/// The waiting room's arithmetic and its desk on the in-memory store.
@Suite struct WaitingRoomTests {
    static let start = Instant.seconds(1_800_000_000)

    @Test func theEarlyCrowdIsDrawnAtRandomAndLaterArrivalsQueueInOrder() {
        let early = [0.7, 0.1, 0.4].map { WaitingRoomPolicy.place(joinedAt: Self.start - .seconds(30), startsAt: Self.start, draw: $0) }
        let late = [1, 3, 2].map { WaitingRoomPolicy.place(joinedAt: Self.start + .seconds(Int64($0)), startsAt: Self.start, draw: 0.0) }
        #expect(early == [0.7, 0.1, 0.4], "before the start, the draw is the place")
        #expect(late == [2, 4, 3], "after it, arrival order, behind the whole early crowd")
        #expect(early.allSatisfy { $0 < late.min()! })
        #expect(WaitingRoomPolicy.place(joinedAt: Self.start - .seconds(1), startsAt: Self.start, draw: 1.0) < 1, "a draw is always before the start's arrivals")
    }

    @Test func buyersAreLetThroughAtTheRateFromTheStart() throws {
        let policy = try WaitingRoomPolicy(admissionRate: 2, ticketTTL: .seconds(30))
        #expect(policy.admitted(at: Self.start - .milliseconds(1), startsAt: Self.start) == 0)
        #expect(policy.admitted(at: Self.start, startsAt: Self.start) == 1)
        #expect(policy.admitted(at: Self.start + .milliseconds(499), startsAt: Self.start) == 1)
        #expect(policy.admitted(at: Self.start + .milliseconds(500), startsAt: Self.start) == 2)
        #expect(policy.admitted(at: Self.start + .seconds(10), startsAt: Self.start) == 21)
        // Rank 4 (the fifth) is through two seconds in: it waits behind 4 - admitted + 1.
        #expect(policy.admission(ofRank: 4, startsAt: Self.start) == Self.start + .seconds(2))
        let before = policy.standing(rank: 4, length: 9, at: Self.start + .seconds(1), startsAt: Self.start)
        #expect(before.position == 2 && before.queueLength == 9 && before.drawn && !before.isAdmitted)
        let through = policy.standing(rank: 4, length: 9, at: Self.start + .seconds(2), startsAt: Self.start)
        #expect(through.isAdmitted && through.admittedAt == Self.start + .seconds(2))
        #expect(!policy.standing(rank: 0, length: 1, at: Self.start - .seconds(1), startsAt: Self.start).drawn)
        #expect(throws: ValidationError.self) { try WaitingRoomPolicy(admissionRate: 0, ticketTTL: .seconds(30)) }
        #expect(throws: ValidationError.self) { try WaitingRoomPolicy(admissionRate: 1, ticketTTL: .milliseconds(10)) }
    }

    @Test func theDeskJoinsOnceAndSaysWhereEachBuyerStands() async throws {
        let clock = ManualClock(Self.start - .seconds(60))
        let draws = [0.9, 0.2, 0.5, 0.0, 0.0]
        let next = DrawSequence(draws)
        let desk = WaitingRoomDesk(store: InMemoryWaitingRoomStore(), clock: clock, draw: { next.take() })
        let terms = try DealTerms(
            id: "d-q", productID: "p", price: Money(minorUnits: 1), startsAt: Self.start, endsAt: Self.start + .seconds(3600), perUserLimit: 1,
            reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 10,
            waitingRoom: try WaitingRoomPolicy(admissionRate: 1, ticketTTL: .seconds(30)))
        for user in ["a", "b", "c"] { _ = try await desk.join(terms, UserID(user)) }
        // Drawn: b (0.2), c (0.5), a (0.9).
        let (b, a) = (try await desk.standing(terms, "b"), try await desk.standing(terms, "a"))
        #expect(b?.position == 1 && a?.position == 3 && a?.drawn == false)
        #expect(try await desk.join(terms, "a")?.position == 3, "joining again keeps the first place")
        await clock.advance(by: .seconds(61))  // one second after the start: two are through
        let d = try #require(try await desk.join(terms, "d"))
        #expect(d.position == 2 && d.queueLength == 4 && d.drawn, "d came after the start: behind the early crowd")
        let (c, aLater) = (try await desk.standing(terms, "c"), try await desk.standing(terms, "a"))
        #expect(c?.isAdmitted == true && aLater?.position == 1)
        #expect(try await desk.standing(terms, "nobody") == nil)
        let plain = try DealTerms(
            id: "d-plain", productID: "p", price: Money(minorUnits: 1), startsAt: Self.start, endsAt: Self.start + .seconds(3600), perUserLimit: 1,
            reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 10)
        #expect(try await desk.join(plain, "a") == nil, "a deal without a waiting room has none to join")
    }
}

/// Draws handed out in order, for a desk under test.
final class DrawSequence: Sendable {
    private let draws: Mutex<[Double]>

    init(_ draws: [Double]) { self.draws = Mutex(draws) }

    func take() -> Double { draws.withLock { $0.isEmpty ? 0 : $0.removeFirst() } }
}
