import Foundation
import Sim

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func experiment(_ name: String) throws -> Scenario {
        try Scenario.load(path: root.appendingPathComponent("experiments/\(name)").path)
    }

    /// The flash-spike scenario shortened for tests: the same shape at a tenth of the time.
    static func shortSpike() throws -> Scenario {
        let data = try Data(contentsOf: root.appendingPathComponent("experiments/flash-spike.json"))
        let sweep = try Sweep(document: data, directory: root.appendingPathComponent("experiments").path, axes: [
            try .init(parsing: "traffic.stages[0].durationSeconds=3"), try .init(parsing: "traffic.stages[2].durationSeconds=10"),
            try .init(parsing: "traffic.stages[3].durationSeconds=3"), try .init(parsing: "deals[0].startsAtSeconds=3"),
            try .init(parsing: "deals[0].stock=300"), try .init(parsing: "deals[0].reservationTtlSeconds=20"),
            try .init(parsing: "deals[0].paymentWindowSeconds=15"),
        ])
        return sweep.points[0].scenario
    }
}
