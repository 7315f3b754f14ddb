public import Foundation

/// What one simulated run predicts. Encoded as JSON with sorted keys: the same scenario and
/// seed give the same bytes, except the top-level `timing` object (wall-clock figures).
public struct RunResult: Codable, Sendable, Hashable {
    public var scenario: String
    public var scenarioHash: String
    public var seed: UInt64
    public var codeVersion: String
    public var arrivalProcess: String
    public var simulatedSeconds: Double
    public var arrivalSeconds: Double
    public var throughput: Throughput
    public var overall: OperationStats
    public var operations: [OperationStats]
    public var rates: Rates
    public var orders: Orders
    public var resources: [ResourceStats]
    public var bottleneck: Bottleneck
    public var kafka: Kafka
    public var replicas: Replicas
    public var series: Series
    public var eventsProcessed: Int
    public var timing: Timing?

    public struct Throughput: Codable, Sendable, Hashable {
        public var iterations: Int
        public var requests: Int
        public var offeredRps: Double
        public var achievedRps: Double
        public var peakOfferedRps: Double
    }

    public struct OperationStats: Codable, Sendable, Hashable {
        public var name: String
        public var requests: Int
        public var ok: Int
        /// Answered with a business outcome (sold out, over the limit, declined, expired).
        public var business: Int
        public var errors: Int
        public var shed: Int
        public var timeouts: Int
        public var p50Ms: Double
        public var p95Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
        public var meanMs: Double
    }

    public struct Rates: Codable, Sendable, Hashable {
        public var errorRate: Double
        public var shedRate: Double
        public var timeoutRate: Double
    }

    public struct Orders: Codable, Sendable, Hashable {
        public var accepted: Int
        public var paid: Int
        public var cancelled: Int
        public var refunded: Int
        public var expired: Int
        public var declined: Int
        public var latePaymentsRefunded: Int
        public var duplicates: Int
        public var soldOutAnswers: Int
        public var limitAnswers: Int
        public var soldOutAtSeconds: Double?
        public var totalUnits: Int
        public var soldUnits: Int
        public var oversoldUnits: Int
        public var conservationHolds: Bool
        public var perUserLimitHolds: Bool
        public var unresolvedReservations: Int
    }

    public struct ResourceStats: Codable, Sendable, Hashable {
        public var name: String
        public var servers: Int
        /// Busy fraction over the whole run.
        public var utilisation: Double
        /// The highest busy fraction over any 5 seconds (the spike).
        public var peakUtilisation: Double
        public var meanQueueLength: Double
        public var meanWaitMs: Double
        public var rejected: Int
        public var timedOut: Int
    }

    public struct Bottleneck: Codable, Sendable, Hashable {
        public var resource: String
        /// Its peak (5-second) utilisation.
        public var utilisation: Double
        public var reason: String
    }

    public struct Kafka: Codable, Sendable, Hashable {
        public var produced: Int
        public var consumed: Int
        public var maxLag: Int
        public var maxLagAtSeconds: Double
        /// From the last produce until the consumers had written everything.
        public var drainSeconds: Double
    }

    public struct Replicas: Codable, Sendable, Hashable {
        public var initial: Int
        public var max: Int
        public var final: Int
        public var firstScaleUpAtSeconds: Double?
    }

    /// One value per second of virtual time.
    public struct Series: Codable, Sendable, Hashable {
        public var offeredRps: [Double]
        public var achievedRps: [Double]
        public var errors: [Double]
        public var shed: [Double]
        public var timeouts: [Double]
        public var p50Ms: [Double]
        public var p95Ms: [Double]
        public var p99Ms: [Double]
        public var kafkaLag: [Double]
        public var available: [Double]
        public var reserved: [Double]
        public var sold: [Double]
        public var readyReplicas: [Double]
        public var utilisation: [String: [Double]]
    }

    public struct Timing: Codable, Sendable, Hashable {
        public var wallSeconds: Double
        public var eventsPerSecond: Double
    }

    /// Deterministic JSON (sorted keys).
    public func json(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return try encoder.encode(self)
    }
}
