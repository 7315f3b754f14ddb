public import Foundation
import GRDB

/// What the simulator predicted for a deal: the newest predicted run whose scenario sells it.
public struct DealPrediction: Sendable, Hashable, Codable {
    public var dealID: String
    public var scenario: String
    public var runID: Int64
    public var createdAt: String
    public var p50Ms: Double?
    public var p95Ms: Double?
    public var achievedRps: Double?
    public var ordersAccepted: Double?
    public var soldOutAtSeconds: Double?
    public var kafkaMaxLag: Double?
    public var shedRate: Double?
}

extension ResultsStore {
    /// The newest predicted run (of the last `searched`) whose scenario has a deal named `deal`,
    /// with its summary metrics; nil when none was stored.
    public func prediction(forDeal deal: String, searched: Int = 500) throws -> DealPrediction? {
        for run in try runs(limit: searched, kind: .predicted) {
            guard let json = try scenarioJSON(hash: run.scenarioHash),
                let scenario = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                let deals = scenario["deals"] as? [[String: Any]], deals.contains(where: { $0["id"] as? String == deal })
            else { continue }
            let metrics = try database.read { db in
                try Row.fetchAll(db, sql: "SELECT name, value FROM metric WHERE runId = ? AND operation = 'all'", arguments: [run.id])
                    .reduce(into: [String: Double]()) { $0[$1[0]] = $1[1] }
            }
            return DealPrediction(
                dealID: deal, scenario: run.experiment, runID: run.id, createdAt: run.createdAt, p50Ms: metrics["p50Ms"], p95Ms: metrics["p95Ms"],
                achievedRps: metrics["achievedRps"], ordersAccepted: metrics["ordersAccepted"], soldOutAtSeconds: metrics["soldOutAtSeconds"],
                kafkaMaxLag: metrics["kafkaMaxLag"], shedRate: metrics["shedRate"])
        }
        return nil
    }
}
