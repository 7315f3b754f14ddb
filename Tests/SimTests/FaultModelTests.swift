import Foundation
import Sim
import Testing

/// The chaos drills' faults in the simulator (`experiments/chaos.json`, `docs/scenario.md`): what
/// each component's absence does to the answers, the outbox and the Kafka lag, checked against the
/// arithmetic of the load (rates times the fault's length) rather than against the model itself.
struct FaultModelTests {
    /// `experiments/chaos.json` shortened: 100 visits/s for 30 s, one fault from 10 s for 10 s.
    static func chaos(_ component: Scenario.Fault.Component) throws -> Scenario {
        var scenario = try Fixtures.experiment("chaos.json")
        scenario.traffic.stages = [.init(duration: 30_000_000_000, target: 100)]
        scenario.horizon = 120_000_000_000
        scenario.faults = [.init(component: component, start: 10_000_000_000, duration: 10_000_000_000)]
        return scenario
    }

    /// What the journey writes per visit: order 0.7 (one journal entry, two messages), pay 0.6 of
    /// those (the opening's entry and message, then two entries and three messages), cancel 0.05
    /// of the paid (a refund: two entries, three messages).
    static let entriesPerVisit = 0.7 * 1 + 0.42 * 3 + 0.021 * 2
    static let messagesPerVisit = 0.7 * 2 + 0.42 * 4 + 0.021 * 3

    func fault(_ r: RunResult) throws -> RunResult.FaultOutcome {
        try #require(r.faults?.count == 1)
        return r.faults![0]
    }

    func expectAllWrittenAndNothingOversold(_ r: RunResult) {
        #expect(r.kafka.produced == r.kafka.consumed, "every message reached MongoDB after the fault")
        #expect(r.orders.oversoldUnits == 0 && r.orders.conservationHolds)
    }

    @Test func aBrokerDownFillsTheOutboxWithoutAnErrorAndItDrainsAfter() throws {
        let r = Simulator.run(try Self.chaos(.broker))
        let f = try fault(r)
        let expected = Self.entriesPerVisit * 100 * 10
        #expect(abs(Double(f.outboxPeak) - expected) / expected < 0.1, "outbox peak \(f.outboxPeak), expected about \(expected)")
        #expect(f.answered > 900 && f.errors == 0, "requests never wait for the broker: \(f.errors) of \(f.answered) failed")
        let drained = try #require(f.drainedAfterSeconds)
        #expect(drained < 10, "drained \(drained) s after the broker was back")
        expectAllWrittenAndNothingOversold(r)
    }

    @Test func aWriterDownHoldsTheOutboxThenTheLagPeaksAfter() throws {
        let r = Simulator.run(try Self.chaos(.writer))
        let f = try fault(r)
        let entries = Self.entriesPerVisit * 100 * 10, messages = Self.messagesPerVisit * 100 * 10
        #expect(abs(Double(f.outboxPeak) - entries) / entries < 0.1, "outbox peak \(f.outboxPeak), expected about \(entries)")
        // Relayed at once when the writer is back, then consumed at the writer's pace.
        #expect(Double(f.kafkaLagPeak) > messages * 0.9, "Kafka lag peak \(f.kafkaLagPeak), at least about \(messages)")
        #expect(f.errors == 0)
        #expect(f.drainedAfterSeconds != nil)
        expectAllWrittenAndNothingOversold(r)
    }

    @Test func mongoDownGrowsTheLagNotTheOutbox() throws {
        let r = Simulator.run(try Self.chaos(.mongo))
        let f = try fault(r)
        let messages = Self.messagesPerVisit * 100 * 10
        #expect(abs(Double(f.kafkaLagPeak) - messages) / messages < 0.15, "Kafka lag peak \(f.kafkaLagPeak), expected about \(messages)")
        #expect(f.outboxPeak < 100, "the relay keeps producing: outbox peak \(f.outboxPeak)")
        #expect(f.errors == 0)
        expectAllWrittenAndNothingOversold(r)
    }

    @Test func theAPIDownFailsEveryVisitThatStartsInIt() throws {
        let r = Simulator.run(try Self.chaos(.api))
        let f = try fault(r)
        // Each visit that starts in the fault fails at every request until one that ends it (no
        // retries; reads go on, as k6's scripts do): the deal list 0.2, the deal, the order 0.7,
        // 1.9 failures a visit, 100 visits/s for 10 s, nearly all in the fault's window.
        #expect(abs(Double(f.errors) - 1900) <= 95, "\(f.errors) of \(f.answered) answers in the window failed")
        let failed = r.operations.reduce(0) { $0 + $1.errors }
        #expect(failed >= f.errors && failed <= f.errors + 50, "\(failed) failed in the whole run")
        expectAllWrittenAndNothingOversold(r)
    }

    @Test func redisDownFailsTheOrdersButNotTheCatalogueReads() throws {
        let r = Simulator.run(try Self.chaos(.redis))
        let f = try fault(r)
        // Deal reads come from the API's cache; each visit that orders (0.7) fails there and ends
        // (and the polls and payments of visits that ordered just before).
        #expect(f.errors >= 650 && f.errors <= 800, "\(f.errors) of \(f.answered) answers in the window failed")
        #expect(r.operations.filter { $0.name == "viewDeal" || $0.name == "listDeals" }.allSatisfy { $0.errors == 0 })
        expectAllWrittenAndNothingOversold(r)
    }

    /// What Kafka carries is what the live server writes: two messages for each reservation and
    /// two for each expiry (the journal's and the order's), nothing else when nobody pays.
    @Test func reservationsAndTheirExpiriesAreRelayedAsTheLiveServerWritesThem() throws {
        var scenario = try Fixtures.experiment("chaos.json")
        scenario.traffic.stages = [.init(duration: 5_000_000_000, target: 50)]
        scenario.traffic.journey.payProbability = 0
        scenario.deals[0].reservationTTL = 2_000_000_000
        scenario.deals[0].paymentWindow = 1_000_000_000
        scenario.faults = []
        let r = Simulator.run(scenario)
        #expect(r.orders.accepted > 100 && r.orders.expired == r.orders.accepted, "every reservation lapsed: \(r.orders)")
        #expect(r.kafka.produced == 2 * r.orders.accepted + 2 * r.orders.expired && r.kafka.consumed == r.kafka.produced)
    }

    @Test func faultyRunsAreDeterministic() throws {
        let scenario = try Self.chaos(.broker)
        func bytes() throws -> Data {
            var r = Simulator.run(scenario)
            r.timing = nil
            return try r.json()
        }
        #expect(try bytes() == (try bytes()))
    }
}
