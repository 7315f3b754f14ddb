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

/// The server's CPU per GraphQL operation: each operation executed in-process through the router
/// `serve` uses (GraphQL, resolvers, the Domain, the Redis client), `samples` times in a row, with
/// the process's CPU time read before and after. HTTP parsing is not included.
public struct OperationProbes: Sendable {
    let router: ShopRouter
    let shop: Shop
    let deal: DealID
    let samples: Int
    let counter = ProbeCounter()

    public init(router: ShopRouter, shop: Shop, tag: String, samples: Int) async throws {
        self.router = router
        self.shop = shop
        self.samples = samples
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

    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func body(_ query: String, _ variables: [String: Any] = [:]) throws -> Data {
        try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
    }

    /// Milliseconds of CPU per operation, by the simulator's operation names.
    public func cpuPerOperation() async throws -> [String: Double] {
        var result: [String: Double] = [:]
        func measure(_ name: String, _ requests: [(Data, String?)]) async throws -> [Data] {
            var answers: [Data] = []
            let start = Self.cpuSeconds()
            for (body, user) in requests {
                let (status, answer) = await router.execute(body: body, caller: try user.map { Caller(user: try UserID(validating: $0)) })
                guard status == 200 else { throw StartupError("calibrating \(name): HTTP \(status) \(String(decoding: answer, as: UTF8.self))") }
                answers.append(answer)
            }
            result[name] = (Self.cpuSeconds() - start) * 1000 / Double(requests.count)
            return answers
        }
        let d = deal.rawValue
        _ = try await measure("listDeals", try (0..<samples).map { _ in (try body("query { deals(first: 10) { edges { node { id status available } } } }"), nil) })
        _ = try await measure("viewDeal", try (0..<samples).map { _ in (try body("query($id: ID!) { deal(id: $id) { id status available reserved sold price product { name } } }", ["id": d]), nil) })
        let users = (0..<samples).map { "probe-user-\($0)-\(counter.next(1))" }
        let placed = try await measure("placeOrder", try users.map { user in
            (try body("mutation($in: PlaceOrderInput!) { placeOrder(input: $in) { __typename ... on OrderPlaced { order { id } } } }",
                      ["in": ["dealId": d, "quantity": 1, "idempotencyKey": "k-\(user)"]]), user)
        })
        let orders = try placed.map { answer -> String in
            let json = try JSONSerialization.jsonObject(with: answer) as? [String: Any]
            guard let id = (((json?["data"] as? [String: Any])?["placeOrder"] as? [String: Any])?["order"] as? [String: Any])?["id"] as? String
            else { throw StartupError("calibrating placeOrder: no order in \(String(decoding: answer, as: UTF8.self))") }
            return id
        }
        let pairs = Array(zip(orders, users))
        _ = try await measure("orderStatus", try pairs.map { (try body("query($id: ID!) { order(id: $id) { id status } }", ["id": $0.0]), $0.1) })
        let half = pairs.count / 2
        _ = try await measure("payOrder", try pairs.prefix(half).map {
            (try body("mutation($in: PayOrderInput!) { payOrder(input: $in) { __typename } }", ["in": ["orderId": $0.0, "idempotencyKey": "pay-\($0.0)"]]), $0.1)
        })
        _ = try await measure("cancelOrder", try pairs.suffix(from: half).map {
            (try body("mutation($in: CancelOrderInput!) { cancelOrder(input: $in) { __typename } }", ["in": ["orderId": $0.0]]), $0.1)
        })
        return result
    }
}
