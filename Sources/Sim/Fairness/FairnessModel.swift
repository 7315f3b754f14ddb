public import Domain
public import Foundation

/// Who wins a small stock when bots come to a sale: humans arriving around the start, and a bot
/// class (many identities, all there before the start, reacting in milliseconds and retrying at
/// once), with and without the deal's waiting room. The Domain decides every order (``StockGate``),
/// the waiting room's order and admission are ``WaitingRoomPolicy``'s, and each identity's
/// business calls go through the server's buyer bucket (``TokenBucket``); what this model leaves
/// out is the machine (queueing on the server is the flash-sale model's business): each request
/// takes a round trip drawn around `roundTripMs`.
public struct FairnessScenario: Sendable, Hashable {
    public var name: String
    public var stock: Int
    public var perUserLimit: Int
    /// The sale starts this long after the run begins.
    public var startSeconds: Double
    public var humans: Int
    /// The share of humans who arrive before the start (the rest arrive evenly over `lateSeconds`).
    public var earlyHumanShare: Double
    public var lateSeconds: Double
    /// A human's mean time from the start (or their arrival, when later) to their first order
    /// attempt, and between attempts while the deal is not yet live.
    public var humanReactionMs: Double
    public var humanRetryMs: Double
    public var bots: Int
    public var botReactionMs: Double
    public var botRetryMs: Double
    /// How often a buyer in a waiting room asks whether they are through (humans, bots).
    public var humanPollMs: Double
    public var botPollMs: Double
    public var roundTripMs: Double
    /// Each identity's bucket for business calls (the server's `limits.buyerRate` and burst).
    public var buyerRate: Double
    public var buyerBurst: Double
    /// The waiting room's admission rate (buyers a second) for the run with one.
    public var admissionRate: Double

    public static func parse(_ data: Data) throws(ScenarioError) -> FairnessScenario {
        var r = try JSONReader.parse(data)
        let scenario = FairnessScenario(
            name: try r.string("name"), stock: try r.int("stock", in: 1...1_000_000), perUserLimit: try r.int("perUserLimit", default: 1, in: 1...1000),
            startSeconds: try r.double("startSeconds", default: 20, in: 0...3600), humans: try r.int("humans", in: 0...1_000_000),
            earlyHumanShare: try r.double("earlyHumanShare", default: 0.6, in: 0...1), lateSeconds: try r.double("lateSeconds", default: 20, in: 0.001...3600),
            humanReactionMs: try r.double("humanReactionMs", default: 800, in: 0...60_000), humanRetryMs: try r.double("humanRetryMs", default: 1000, in: 1...60_000),
            bots: try r.int("bots", in: 0...1_000_000), botReactionMs: try r.double("botReactionMs", default: 5, in: 0...60_000),
            botRetryMs: try r.double("botRetryMs", default: 20, in: 1...60_000), humanPollMs: try r.double("humanPollMs", default: 1000, in: 1...60_000),
            botPollMs: try r.double("botPollMs", default: 50, in: 1...60_000), roundTripMs: try r.double("roundTripMs", default: 5, in: 0...10_000),
            buyerRate: try r.double("buyerRate", default: 5, in: 0...1_000_000), buyerBurst: try r.double("buyerBurst", default: 10, in: 0...1_000_000),
            admissionRate: try r.double("admissionRate", in: 0.01...1_000_000))
        try r.finish()
        return scenario
    }

    public static func load(path: String) throws -> FairnessScenario {
        guard let data = FileManager.default.contents(atPath: path) else { throw ScenarioError(path: path, message: "cannot read the file") }
        return try parse(data)
    }
}

/// The fairness figures of one run.
public struct FairnessResult: Codable, Sendable, Hashable {
    public var waitingRoom: Bool
    public var botUnits: Int
    public var humanUnits: Int
    /// Bots' share of the units sold, and of the buyers who came.
    public var botShareOfUnits: Double
    public var botShareOfBuyers: Double
    /// Units won by humans who came before the start, and after it.
    public var earlyHumanUnits: Int
    public var lateHumanUnits: Int
    /// Among the buyers who came after the start: pairs served in the other order than they came,
    /// out of all pairs. Served: let through by the waiting room, or without one, the first order
    /// that reached the stock gate.
    public var inversions: Int
    public var pairs: Int
    public var inversionRate: Double
    /// Business calls the buyer bucket refused (bots retrying).
    public var rateLimited: Int
    public var soldOutAtSeconds: Double?
}

public enum FairnessModel {
    enum Kind: Int { case human, bot }

    struct Buyer {
        var kind: Kind
        var user: UserID
        var arrival: Double
        var won = 0
        /// When the buyer's first order reached the gate (seconds), nil: never.
        var served: Double?
        var bucket: TokenBucket?
        var done = false
    }

    /// One run, deterministic for `seed`.
    public static func run(_ s: FairnessScenario, waitingRoom: Bool, seed: UInt64 = 1) -> FairnessResult {
        var random = SeededGenerator(seed: seed)
        func exponential(_ mean: Double) -> Double { mean <= 0 ? 0 : -mean * log(1 - random.nextUnitInterval()) }
        let epoch = Instant.seconds(1_800_000_000)
        func instant(_ seconds: Double) -> Instant { epoch + .nanoseconds(Int64((seconds * 1e9).rounded())) }
        let start = s.startSeconds
        let policy = try! WaitingRoomPolicy(admissionRate: s.admissionRate, ticketTTL: .seconds(60))
        let terms = try! DealTerms(
            id: "fair", productID: "p", price: Money(minorUnits: 1), startsAt: instant(start), endsAt: instant(start + 3600),
            perUserLimit: s.perUserLimit, reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: s.stock,
            waitingRoom: waitingRoom ? policy : nil)
        var gate = StockGate.create(terms).0
        gate.apply(gate.decideStart(at: instant(start)))

        // Who comes when: early humans at random before the start, late ones evenly after it, bots
        // in the last second before it.
        var buyers: [Buyer] = []
        let early = Int((Double(s.humans) * s.earlyHumanShare).rounded())
        for i in 0..<s.humans {
            let arrival = i < early ? random.nextUnitInterval() * start : start + Double(i - early + 1) / Double(max(1, s.humans - early)) * s.lateSeconds
            buyers.append(Buyer(kind: .human, user: UserID(generated: "h\(i)"), arrival: arrival))
        }
        for i in 0..<s.bots { buyers.append(Buyer(kind: .bot, user: UserID(generated: "b\(i)"), arrival: max(0, start - random.nextUnitInterval()))) }

        // With a waiting room, each joins when they come: the queue's order, then each one's
        // moment through (`WaitingRoomPolicy`'s arithmetic, ties by id as the stores order them).
        var admittedAt: [Double] = Array(repeating: 0, count: buyers.count)
        if waitingRoom {
            let places = buyers.map { WaitingRoomPolicy.place(joinedAt: instant($0.arrival), startsAt: instant(start), draw: random.nextUnitInterval()) }
            let order = buyers.indices.sorted { (places[$0], buyers[$0].user) < (places[$1], buyers[$1].user) }
            for (rank, b) in order.enumerated() {
                admittedAt[b] = max(buyers[b].arrival, Double((policy.admission(ofRank: rank, startsAt: instant(start)) - epoch).nanoseconds) / 1e9)
            }
        }

        // Each buyer's next attempt, in time order (ties by index: deterministic).
        var attempts = MinHeap()
        for (b, buyer) in buyers.enumerated() {
            let ready = max(buyer.arrival, start)
            var first = buyer.kind == .bot ? ready + exponential(s.botReactionMs / 1000) : ready + exponential(s.humanReactionMs / 1000)
            if buyer.kind == .bot, buyer.arrival < start { first = max(buyer.arrival, start - 0.5) + exponential(s.botReactionMs / 1000) }
            if waitingRoom {
                // Noticed at the next poll after being let through, then the order.
                let poll = (buyer.kind == .bot ? s.botPollMs : s.humanPollMs) / 1000
                first = max(first, admittedAt[b] + random.nextUnitInterval() * poll + exponential(buyer.kind == .bot ? s.botReactionMs / 1000 : s.humanReactionMs / 4000))
            }
            attempts.push((first, Int32(b)))
        }
        var rateLimited = 0, soldOutAt: Double?
        let bucketPolicy = TokenBucket.Policy(rate: s.buyerRate, burst: s.buyerBurst)
        var serial = 0
        while let (time, buyer) = attempts.pop() {
            let b = Int(buyer)
            let retry = (buyers[b].kind == .bot ? s.botRetryMs : s.humanRetryMs) / 1000
            let atGate = time + exponential(s.roundTripMs / 2000)
            if bucketPolicy.limits {
                let (allowed, bucket, wait) = TokenBucket.take(buyers[b].bucket, policy: bucketPolicy, at: instant(atGate))
                buyers[b].bucket = bucket
                guard allowed else {
                    rateLimited += 1
                    attempts.push((atGate + Double(wait.nanoseconds) / 1e9 + exponential(s.roundTripMs / 2000), buyer))
                    continue
                }
            }
            serial += 1
            let request = ReserveRequest(
                orderID: OrderID(generated: "o\(serial)"), userID: buyers[b].user, quantity: 1, idempotencyKey: IdempotencyKey(generated: "k\(serial)"),
                expiresAt: instant(atGate + 600))
            let (decision, change) = gate.decideReserve(request, at: instant(atGate))
            gate.apply(change)
            // Served: let through by the waiting room, or without one, the first order at the gate.
            if atGate >= start, buyers[b].served == nil { buyers[b].served = waitingRoom ? admittedAt[b] : atGate }
            switch decision {
            case .reserve:
                buyers[b].won += 1
                if gate.inventory.available == 0, soldOutAt == nil { soldOutAt = atGate }
                if buyers[b].won < s.perUserLimit, buyers[b].kind == .bot { attempts.push((atGate + retry, buyer)) }
            case .notActive where atGate < start:
                attempts.push((atGate + retry, buyer))  // too early: again
            default:
                break  // sold out, the limit, or the deal over: the buyer leaves
            }
        }

        let botUnits = buyers.filter { $0.kind == .bot }.reduce(0) { $0 + $1.won }
        let humanUnits = buyers.filter { $0.kind == .human }.reduce(0) { $0 + $1.won }
        let late = buyers.filter { $0.arrival >= start && $0.served != nil }.sorted { ($0.arrival, $0.user) < ($1.arrival, $1.user) }
        var inversions = 0
        for i in late.indices { for j in late.indices where j > i && late[j].served! < late[i].served! { inversions += 1 } }
        let pairs = late.count * (late.count - 1) / 2
        return FairnessResult(
            waitingRoom: waitingRoom, botUnits: botUnits, humanUnits: humanUnits,
            botShareOfUnits: botUnits + humanUnits == 0 ? 0 : Double(botUnits) / Double(botUnits + humanUnits),
            botShareOfBuyers: buyers.isEmpty ? 0 : Double(s.bots) / Double(buyers.count),
            earlyHumanUnits: buyers.filter { $0.kind == .human && $0.arrival < start }.reduce(0) { $0 + $1.won },
            lateHumanUnits: buyers.filter { $0.kind == .human && $0.arrival >= start }.reduce(0) { $0 + $1.won },
            inversions: inversions, pairs: pairs, inversionRate: pairs == 0 ? 0 : Double(inversions) / Double(pairs), rateLimited: rateLimited,
            soldOutAtSeconds: soldOutAt.map { $0 - start })
    }
}
