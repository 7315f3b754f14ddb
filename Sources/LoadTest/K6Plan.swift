public import Sim
public import Foundation

/// What `k6/scenario.js` runs, derived from a scenario file (one source of truth for the
/// simulator and the load test): the ramping-arrival-rate stages in visits per second, the buyer
/// journey and its think time, the users, and the live ids of the scenario's deals.
public struct K6Plan: Codable, Sendable, Hashable {
    public struct Stage: Codable, Sendable, Hashable {
        public var durationSeconds: Double
        public var target: Double
    }

    public struct ThinkTime: Codable, Sendable, Hashable {
        public var type: String
        public var valueMs: Double?
        public var minMs: Double?
        public var maxMs: Double?
        public var meanMs: Double?
    }

    public struct Journey: Codable, Sendable, Hashable {
        public var browseProbability: Double
        public var viewProbability: Double
        public var orderProbability: Double
        public var quantity: Int
        public var polls: Int
        public var payProbability: Double
        public var cancelProbability: Double
        public var thinkTime: ThinkTime
    }

    public struct Deal: Codable, Sendable, Hashable {
        /// The id on the live server (the scenario's id and the run's tag, so runs never share stock).
        public var id: String
        public var scenarioID: String
        public var weight: Double
    }

    public var target: String
    public var startRate: Double
    public var stages: [Stage]
    public var users: Int
    public var journey: Journey
    public var deals: [Deal]
    public var preAllocatedVUs: Int
    public var maxVUs: Int
    public var p95BudgetMs: Double
    /// The client's time-out per request (the scenario's `traffic.client.timeoutMs`).
    public var timeoutMs: Double
    /// What the scenario models that k6 does not reproduce (retries), said out loud.
    public var caveats: [String]

    public init(scenario: Scenario, target: String, runTag: String, p95BudgetMs: Double = 150) throws(LoadTestError) {
        let traffic = scenario.traffic
        let journey = traffic.journey
        self.target = target
        startRate = traffic.startRate
        stages = traffic.stages.map { Stage(durationSeconds: Double($0.duration) / 1e9, target: $0.target) }
        users = traffic.users
        self.journey = Journey(
            browseProbability: journey.browseProbability, viewProbability: journey.viewProbability,
            orderProbability: journey.orderProbability, quantity: journey.quantity, polls: journey.polls,
            payProbability: journey.payProbability, cancelProbability: journey.cancelProbability,
            thinkTime: try Self.thinkTime(journey.thinkTime))
        deals = scenario.deals.map { Deal(id: "\($0.id)-\(runTag)", scenarioID: $0.id, weight: $0.weight) }
        // A visit holds a VU for its requests and think times: Little's law with room to spare
        // (a quarter second a request, so a saturated server's queueing does not run k6 out of VUs).
        let visitSeconds = scenario.requestsPerVisit * (journey.thinkTime.mean / 1e9 + 0.25)
        maxVUs = min(5_000, max(50, Int((scenario.peakVisitsPerSecond * visitSeconds * 3).rounded(.up))))
        timeoutMs = Double(traffic.client.timeout) / 1e6
        preAllocatedVUs = max(10, maxVUs / 4)
        self.p95BudgetMs = p95BudgetMs
        caveats = traffic.client.maxRetries > 0
            ? ["traffic.client.maxRetries is \(traffic.client.maxRetries): the simulator retries shed and timed-out requests; k6 does not"] : []
    }

    static func thinkTime(_ d: Distribution) throws(LoadTestError) -> ThinkTime {
        switch d {
        case .constant(let v): return ThinkTime(type: "constant", valueMs: v / 1e6)
        case .uniform(let a, let b): return ThinkTime(type: "uniform", minMs: a / 1e6, maxMs: b / 1e6)
        case .exponential(let m): return ThinkTime(type: "exponential", meanMs: m / 1e6)
        default:
            throw LoadTestError("traffic.journey.thinkTime: k6 reproduces constant, uniform and exponential think times; this scenario has \(d)")
        }
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }
}

/// A load test that cannot run as asked, with the reason.
public struct LoadTestError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
