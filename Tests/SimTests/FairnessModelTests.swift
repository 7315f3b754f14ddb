import Foundation
import Sim
import Testing

/// The fairness model: bots against humans, with and without the deal's waiting room.
@Suite struct FairnessModelTests {
    static func scenario() throws -> FairnessScenario {
        try FairnessScenario.load(path: Fixtures.root.appendingPathComponent("experiments/fairness/bots.json").path)
    }

    @Test func theWaitingRoomTakesTheBotsEdgeAwayAndServesLateArrivalsInOrder() throws {
        let s = try Self.scenario()
        let open = FairnessModel.run(s, waitingRoom: false, seed: 7), room = FairnessModel.run(s, waitingRoom: true, seed: 7)
        for r in [open, room] {
            #expect(r.botUnits + r.humanUnits == s.stock, "the stock sells out, and never more than it")
            #expect(r.botUnits <= s.bots * s.perUserLimit)
        }
        #expect(open.botShareOfUnits > 3 * open.botShareOfBuyers, "without a room, speed wins: \(open.botShareOfUnits)")
        #expect(room.botShareOfUnits < 2 * room.botShareOfBuyers, "with one, about the bots' share of the early crowd: \(room.botShareOfUnits)")
        #expect(room.inversions == 0 && open.inversions > 0, "late arrivals are let through in the order they came")
        #expect(open.rateLimited > 0, "retrying bots meet their bucket")
    }

    @Test func aRunIsDeterministicForItsSeed() throws {
        let s = try Self.scenario()
        #expect(FairnessModel.run(s, waitingRoom: true, seed: 3) == FairnessModel.run(s, waitingRoom: true, seed: 3))
        #expect(FairnessModel.run(s, waitingRoom: false, seed: 3) != FairnessModel.run(s, waitingRoom: false, seed: 4))
    }

    @Test func aMalformedScenarioNamesTheKey() {
        #expect(throws: ScenarioError.self) { try FairnessScenario.parse(Data(#"{"name":"x","stock":0,"humans":1,"bots":1,"admissionRate":1}"#.utf8)) }
        let error = #expect(throws: ScenarioError.self) { try FairnessScenario.parse(Data(#"{"name":"x","stock":5,"humans":1,"bots":1,"admissionRate":1,"botz":3}"#.utf8)) }
        #expect(error?.description.contains("botz") == true, "\(String(describing: error))")
    }
}
