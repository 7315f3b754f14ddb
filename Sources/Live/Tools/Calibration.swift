public import Domain
import Foundation
public import LiveAPI
import LiveRedis
import LiveRuntime
import LiveKafka
import LiveMongo

/// A mean and standard deviation, in milliseconds.
public struct Timing: Sendable {
    public var mean: Double
    public var sd: Double
}

/// Times each backend's basic operations for `flashdeal calibrate`, under keys, topics and a
/// database of their own.
public struct BackendProbes: Sendable {
    let pool: RedisPool
    let producer: KafkaProducer
    let mongo: MongoClient
    let tag: String
    let counter = ProbeCounter()

    public init(redisURL: String, kafkaBrokers: String, mongoURI: String, tag: String) async throws {
        pool = try await RedisPool(.init(url: redisURL, connections: 2))
        producer = try KafkaProducer(.init(brokers: kafkaBrokers))
        var components = URLComponents(string: mongoURI)
        components?.path = "/\(tag)"
        mongo = try await MongoClient(uri: components?.string ?? mongoURI)
        self.tag = tag
        _ = try await pool.send(["HSET", "\(tag):{probe}:gate", "status", "live", "total", "1", "available", "1"])
        try await mongo.insert("probe", [["_id": "p-0", "value": 0]])
    }

    /// Runs `body` `n` times, one after another; the wall time of each, in milliseconds.
    public func time(_ n: Int, _ body: () async throws -> Void) async throws -> Timing {
        try await body()  // warm up
        var samples: [Double] = []
        for _ in 0..<n {
            let start = ContinuousClock.now
            try await body()
            let d = ContinuousClock.now - start
            samples.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        let mean = samples.reduce(0, +) / Double(n)
        let sd = (samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, n - 1))).squareRoot()
        return Timing(mean: mean, sd: sd)
    }

    public func ping() async throws { _ = try await pool.send(["PING"]) }

    /// Redis's own CPU seconds so far (`INFO cpu`: used_cpu_user + used_cpu_sys).
    public func redisCPU() async throws -> Double { try await RedisCPUProbe.cpu(pool) }
    public func read() async throws { _ = try await pool.send(["HMGET", "\(tag):{probe}:gate", "status", "total", "available"]) }

    /// `n` messages at once, until the broker acknowledged them all.
    public func produce(_ n: Int) async throws {
        let producer = self.producer, topic = "\(tag).probe"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<n { group.addTask { try await producer.send(topic: topic, key: "k\(i % 8)", value: Array(repeating: 120, count: 200)) } }
            try await group.waitForAll()
        }
    }

    public func mongoRead() async throws { _ = try await mongo.find("probe", filter: ["_id": "p-0"], options: ["limit": 1]) }

    /// One `insert_many` of `n` order-sized documents.
    public func insert(_ n: Int) async throws {
        let base = counter.next(n)
        try await mongo.insert("probe", (0..<n).map { ["_id": "d-\(base + $0)", "userID": "u-\($0)", "quantity": 1, "status": "reserved", "placedAt": base + $0, "padding": String(repeating: "x", count: 200)] })
    }

    public func close() { producer.shutdown(timeoutMs: 1000) }
}

final class ProbeCounter: @unchecked Sendable {
    // Safe: `value` is read and written under `lock`.
    private let lock = NSLock()
    private var value = 0
    func next(_ n: Int) -> Int { lock.withLock { defer { value += n }; return value } }
}

/// A deal of the calibration's own, for timing the stock gate script straight through the ledger.
public struct OperationProbes: Sendable {
    let shop: Shop
    let deal: DealID
    let counter = ProbeCounter()

    public init(shop: Shop, tag: String) async throws {
        self.shop = shop
        deal = DealID(generated: "probe-\(tag)")
        let now = await shop.ports.clock.now()
        try await shop.createProduct(try Product(id: ProductID(generated: "probe-\(tag)"), name: "Probe", description: "calibration"))
        _ = try await shop.scheduleDeal(try DealTerms(
            id: deal, productID: ProductID(generated: "probe-\(tag)"), price: Money(minorUnits: 100), startsAt: now, endsAt: now + .seconds(3600),
            perUserLimit: 1000, reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: 1_000_000))
        _ = try await shop.startDeal(deal)
    }

    /// One reservation straight through the stock ledger (one EVALSHA of the gate script).
    public func reserveDirect() async throws {
        let now = await shop.ports.clock.now()
        let n = counter.next(1)
        _ = try await shop.ports.ledger.reserve(deal, ReserveRequest(
            orderID: OrderID(generated: "probe-\(deal)-\(n)"), userID: UserID(generated: "probe-\(n)"), quantity: 1,
            idempotencyKey: IdempotencyKey(generated: "k\(n)"), expiresAt: now + .seconds(600)), at: now)
    }
}

/// Reads Redis's own CPU seconds (`INFO cpu`) over a connection of its own: what `flashdeal
/// loadtest` records around each run.
public struct RedisCPUProbe: Sendable {
    let pool: RedisPool

    public init(url: String) async throws { pool = try await RedisPool(.init(url: url, connections: 1)) }

    /// Redis's CPU seconds so far: used_cpu_user + used_cpu_sys.
    public func cpu() async throws -> Double { try await Self.cpu(pool) }

    static func cpu(_ pool: RedisPool) async throws -> Double {
        guard let text = try await pool.send(["INFO", "cpu"]).string else { throw StartupError("Redis answered INFO cpu with no text") }
        let fields = text.split(whereSeparator: \.isNewline).compactMap { line -> (String, Double)? in
            let parts = line.split(separator: ":")
            guard parts.count == 2, let value = Double(parts[1].trimmingCharacters(in: .whitespaces)) else { return nil }
            return (String(parts[0]), value)
        }
        let cpu = Dictionary(fields, uniquingKeysWith: { a, _ in a })
        guard let user = cpu["used_cpu_user"], let system = cpu["used_cpu_sys"] else { throw StartupError("Redis's INFO cpu has no used_cpu_user or used_cpu_sys") }
        return user + system
    }
}
