import Domain
import Foundation
import LiveMongo
import LiveRuntime
@testable import LiveRedis
import Synchronization
import Testing

/// The Redis client against a real three-primary Redis Cluster of the test's own (`redis-server
/// --cluster-enabled yes`, `redis-cli --cluster create`): hash slots as Redis computes them, calls
/// routed to the primary of their slot with deals spread over all three, a pipeline over many
/// deals split by slot, a script or transaction over two slots refused by name, a script loaded
/// where its keys live, and a deal's slot moved to another primary while its counter is
/// incremented: every acknowledged increment counted once. Then the shop itself on such a cluster:
/// a sale of deals on all three primaries, bought, paid and cancelled, while one deal's slot moves
/// to another primary, audited for lost and oversold units.
@Suite(.serialized) struct RedisClusterTests {
    /// Three primaries on consecutive ports, a cluster for each test.
    final class Cluster: Sendable {
        let ports: [Int]
        let processes: [Process]

        init() async throws {
            let base = Int.random(in: 21_000...21_900) / 3 * 3
            ports = [base, base + 1, base + 2]
            // A node remembers its cluster in its folder: start each from an empty one.
            for port in ports { try? FileManager.default.removeItem(at: Self.folder(port)) }
            processes = try ports.map { port in
                try RedisSettingsTests.redis(port, ["--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(port).conf", "--appendonly", "no"])
            }
            for port in ports { for _ in 0..<50 where !Broker.accepts(port) { try await Task.sleep(for: .milliseconds(100)) } }
            let create = try Self.cli(["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-replicas", "0", "--cluster-yes"])
            guard create.status == 0 else { throw RedisError(.connect, "redis-cli --cluster create failed: \(create.out)") }
            for port in ports {
                for _ in 0..<100 {
                    if try Self.cli(["-p", "\(port)", "CLUSTER", "INFO"]).out.contains("cluster_state:ok") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }

        func stop() {
            for p in processes { RedisSettingsTests.stop(p) }
            for port in ports { try? FileManager.default.removeItem(at: Self.folder(port)) }
        }

        /// Where `RedisSettingsTests.redis` keeps a server's files.
        static func folder(_ port: Int) -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-redis-\(port)") }

        @discardableResult
        static func cli(_ arguments: [String]) throws -> (status: Int32, out: String) {
            let run = try ConsumerGroupTests.run("/usr/bin/redis-cli", arguments)
            return (run.status, run.out.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        func cli(_ port: Int, _ arguments: [String]) throws -> String {
            let run = try Self.cli(["-p", "\(port)"] + arguments)
            guard run.status == 0 else { throw RedisError(.server, "redis-cli \(arguments.joined(separator: " ")): \(run.out)") }
            return run.out
        }

        func nodeID(_ port: Int) throws -> String { try cli(port, ["CLUSTER", "MYID"]) }

        /// Moves `slot` from the primary on `source` to the one on `target` as `redis-cli --cluster
        /// reshard` does: importing and migrating marked, the keys moved `keysAtATime` at a time with
        /// `MIGRATE` (`pause` between), then the new owner told first, the old one next, then the rest
        /// (Redis's documented order).
        func move(_ slot: Int, from source: Int, to target: Int, keysAtATime: Int, pause: Duration) async throws {
            let sourceID = try nodeID(source), targetID = try nodeID(target)
            _ = try cli(target, ["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceID])
            _ = try cli(source, ["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID])
            while true {
                let keys = try cli(source, ["CLUSTER", "GETKEYSINSLOT", "\(slot)", "\(keysAtATime)"]).split(separator: "\n").map(String.init)
                if keys.isEmpty { break }
                _ = try cli(source, ["MIGRATE", "127.0.0.1", "\(target)", "", "0", "5000", "KEYS"] + keys)
                try await Task.sleep(for: pause)
            }
            for port in [target, source] + ports.filter({ $0 != target && $0 != source }) {
                _ = try cli(port, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID])
            }
        }
    }

    @Test func hashSlotsAreRedisOwn() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        for key in ["fd:{deal-1}:gate", "fd:{deal-1}:journal", "fd:order:{o-42}", "foo", "{}bar", "foo{}{bar}", "a{b}c{d}", "user:{u-7}:orders", "仮{キー}"] {
            let redis = Int(try cluster.cli(cluster.ports[0], ["CLUSTER", "KEYSLOT", key]))
            #expect(RedisHashSlot.of(key) == redis, "\(key)")
        }
        // An order's id carries its deal's slot, and its key (and its payment's) is in that slot as
        // Redis computes it; every slot has a tag.
        for deal in ["hot", "deal-1", "sale-42", String(repeating: "z", count: 64)] {
            let order = RandomIdentifiers().makeOrderID(for: DealID(deal))
            let payment = RandomIdentifiers().makePaymentID(for: order)
            let gate = try cluster.cli(cluster.ports[0], ["CLUSTER", "KEYSLOT", "fd:{\(deal)}:gate"])
            for key in [RedisKeys.record("fd", "order", order.rawValue), RedisKeys.record("fd", "payment", payment.rawValue)] {
                #expect(try cluster.cli(cluster.ports[0], ["CLUSTER", "KEYSLOT", key]) == gate, "\(key) beside \(deal)'s gate")
            }
        }
        #expect((0..<HashSlot.count).allSatisfy { HashSlot.of(HashSlot.tag(of: "o.s\($0)") ?? "") == $0 })
        #expect([HashSlot.placed("o-1"), HashSlot.placed("o-1.s16384"), HashSlot.placed("o.sx1"), HashSlot.placed("o.s"), HashSlot.placed("a.b.s12")] == [nil, nil, nil, nil, 12])
        #expect(RedisKeys.record("fd", "order", "o-1") == "fd:order:{o-1}", "an id without its slot keeps its own tag")
        #expect(RedisHashSlot.keys(of: ["EVALSHA", "abc", "2", "k1", "k2", "arg"]) == ["k1", "k2"])
        #expect(RedisHashSlot.keys(of: ["XREADGROUP", "GROUP", "g", "c", "COUNT", "5", "STREAMS", "s1", "s2", ">", ">"]) == ["s1", "s2"])
        #expect(RedisHashSlot.keys(of: ["WAIT", "1", "200"]).isEmpty)
    }

    @Test func callsGoToTheirSlotsPrimaryAndDealsSpreadOverAll() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let pool = try await RedisPool(.init(url: "redis://127.0.0.1:\(cluster.ports[1])", connections: 2))
        #expect(pool.cluster?.map.nodes.count == 3)
        for d in 0..<30 {
            let replies = try await pool.pipeline([["HSET", "fd:{deal-\(d)}:gate", "available", "\(d)"], ["RPUSH", "fd:{deal-\(d)}:journal", "e"]])
            #expect(replies == [.integer(1), .integer(1)])
        }
        for d in 0..<30 { #expect(try await pool.send(["HGET", "fd:{deal-\(d)}:gate", "available"]) == .string("\(d)")) }
        // Each primary holds some of the deals.
        for port in cluster.ports { #expect((Int(try cluster.cli(port, ["DBSIZE"])) ?? 0) > 0, "primary \(port) holds no deal") }
        // A pipeline over many deals is split by slot, each reply in its command's place.
        let many = try await pool.pipeline((0..<30).map { ["HGET", "fd:{deal-\($0)}:gate", "available"] } + [["PING"]])
        #expect(many == (0..<30).map { .string("\($0)") } + [.status("PONG")])
        // What a cluster cannot run is refused before anything is sent, naming both keys: one
        // script over two slots, and a transaction over two.
        for call in [
            [["EVAL", "return 1", "2", "fd:{deal-1}:gate", "fd:{deal-2}:gate"]],
            [["MULTI"], ["INCR", "fd:{deal-1}:n"], ["INCR", "fd:{deal-2}:n"], ["EXEC"]],
        ] {
            do {
                _ = try await pool.pipeline(call)
                Issue.record("a cross-slot call was sent: \(call)")
            } catch let error as RedisError {
                #expect(error.description.contains("fd:{deal-1}") && error.description.contains("fd:{deal-2}"), "\(error)")
            }
        }
        #expect(try await pool.send(["EXISTS", "fd:{deal-1}:n"]) == .integer(0), "nothing of the refused transaction ran")
        // A script loaded through the seed runs on every primary: NOSCRIPT elsewhere loads it there.
        let script = try await RedisScript("return redis.call('HGET', KEYS[1], 'available')", on: pool)
        for d in 0..<30 { #expect(try await script.run(on: pool, keys: ["fd:{deal-\(d)}:gate"], arguments: []) == .string("\(d)")) }
    }

    /// The writer's steps, and whether the move is over.
    final class Progress: Sendable {
        private let state = Mutex((steps: 0, moved: false))
        var steps: Int { state.withLock { $0.steps } }
        /// Counts a step; true once the move is over.
        func step() -> Bool { state.withLock { $0.steps += 1; return $0.moved } }
        func finish() { state.withLock { $0.moved = true } }
    }

    @Test func aSlotMovedWhileItsKeyIsWrittenLosesAndDoublesNothing() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let pool = try await RedisPool(.init(url: "redis://127.0.0.1:\(cluster.ports[0])", connections: 2))
        let key = "fd:{deal-moving}:sold"
        let slot = RedisHashSlot.of(key)
        let source = Int(pool.cluster!.map.node(for: slot)!.split(separator: ":").last!)!
        let target = cluster.ports.first { $0 != source }!
        // A writer incrementing the deal's counter as fast as it is answered, from before the move
        // until after it (however slow a loaded machine makes the move).
        let progress = Progress()
        let writer = Task { () -> Int in
            var acknowledged = 0
            var after = 0
            while after < 100 {
                if case .integer = try await pool.send(["INCR", key]) { acknowledged += 1 }
                // A second key of the slot, so the migration has more than one key to move.
                _ = try await pool.send(["SET", "fd:{deal-moving}:k\(acknowledged % 50)", "\(acknowledged)"])
                if progress.step() { after += 1 }
            }
            return acknowledged
        }
        while progress.steps < 50 { try await Task.sleep(for: .milliseconds(20)) }
        try await cluster.move(slot, from: source, to: target, keysAtATime: 10, pause: .milliseconds(50))
        progress.finish()
        let acknowledged = try await writer.value
        #expect(acknowledged > 100)
        // It ran through the move: some commands were redirected (ASK while the keys moved,
        // MOVED once the slot had).
        #expect(pool.cluster!.redirects.load(ordering: .relaxed) > 0)
        #expect(try await pool.send(["GET", key]) == .string("\(acknowledged)"), "every acknowledged INCR counted once")
        #expect(try cluster.cli(target, ["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]) != "0")
        #expect(try cluster.cli(source, ["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]) == "0")
        // The pool learnt the new owner from a MOVED.
        try await pool.cluster!.refresh()
        #expect(pool.cluster!.map.node(for: slot) == "127.0.0.1:\(target)")
    }

    /// One buyer's journey, retried as a client retries (the same idempotency keys) when a call
    /// fails; what it ended with.
    struct Journey: Sendable {
        var deal: DealID
        var order: Order?
        var outcome: String
    }

    static func journey(_ shop: Shop, deal: DealID, buyer: String, cancels: Bool) async throws -> Journey {
        func retried<T: Sendable>(_ call: () async throws -> T) async throws -> T {
            for attempt in 1... {
                do { return try await call() } catch where attempt < 20 { try await Task.sleep(for: .milliseconds(50)) }
            }
            fatalError("unreachable")
        }
        let user = UserID(buyer)
        let placed = try await retried { try await shop.placeOrder(PlaceOrderCommand(dealID: deal, userID: user, quantity: 1, idempotencyKey: "place")) }
        guard case .placed(let order) = placed else { return Journey(deal: deal, order: nil, outcome: "\(placed)") }
        if cancels {
            let cancelled = try await retried { try await shop.cancelOrder(CancelOrderCommand(orderID: order.id, userID: user)) }
            guard case .cancelled(let done) = cancelled else { return Journey(deal: deal, order: order, outcome: "\(cancelled)") }
            return Journey(deal: deal, order: done, outcome: "cancelled")
        }
        let paid = try await retried { try await shop.payOrder(PayOrderCommand(orderID: order.id, userID: user, idempotencyKey: "pay")) }
        guard case .paid(let done) = paid else { return Journey(deal: deal, order: order, outcome: "\(paid)") }
        return Journey(deal: deal, order: done, outcome: "paid")
    }

    /// The live shop (`ShopServer.compose`: Redis, the relay to Kafka, the consumer to MongoDB) on a
    /// three-primary cluster: six deals, two on each primary; buyers place, pay and cancel on all
    /// of them while the hottest deal's hash slot, with its gate, journal, outbox, orders, payments
    /// and claims, moves to another primary as `redis-cli --cluster reshard` moves it. Audited:
    /// each deal's units add up to its stock, none sold twice or past the stock, every journey's
    /// order reads back as it ended, and every order reaches MongoDB as Redis holds it.
    @Test(.enabled(if: Backends.kafkaBrokers != nil && Backends.mongoURI != nil))
    func aSaleOnEveryPrimaryLosesAndOversellsNothingWhileADealsSlotMoves() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        var configuration = try Backends.liveConfiguration()
        configuration.redis.url = "redis://127.0.0.1:\(cluster.ports[0])"
        let hot = 1_000, stock = 30
        let sale = try await LiveSale(stock: hot, limit: 2, configuration: configuration)
        let shop = sale.shop
        let probe = try await RedisPool(.init(url: "redis://127.0.0.1:\(cluster.ports[0])", connections: 1))
        let map = try #require(probe.cluster).map
        // Two deals on each primary, the hot one among them.
        var deals = [sale.dealID]
        var onNode = [try #require(map.node(for: HashSlot.of(sale.dealID))): 1]
        var candidate = 0
        while deals.count < 6 {
            let deal = DealID("sale-\(candidate)")
            candidate += 1
            let node = try #require(map.node(for: HashSlot.of(deal)))
            guard onNode[node, default: 0] < 2 else { continue }
            onNode[node, default: 0] += 1
            deals.append(deal)
        }
        #expect(onNode.count == 3 && onNode.values.allSatisfy { $0 == 2 }, "deals on every primary: \(onNode)")
        let now = WallClock().now()
        for deal in deals.dropFirst() {
            _ = try await shop.scheduleDeal(try DealTerms(
                id: deal, productID: "p", price: Money(minorUnits: 1000), startsAt: now, endsAt: now + .seconds(3600), perUserLimit: 2,
                reservationTTL: .seconds(600), paymentWindow: .seconds(300), initialStock: stock))
            _ = try await shop.startDeal(deal)
        }

        let progress = Progress()
        let slot = HashSlot.of(sale.dealID)
        let source = Int(try #require(map.node(for: slot)).split(separator: ":").last!)!
        let target = cluster.ports.first { $0 != source }!
        let others = Array(deals.dropFirst()), hotDeal = sale.dealID
        let journeys = Task { () throws -> [Journey] in
            try await withThrowingTaskGroup(of: [Journey].self) { group in
                // The other deals: 40 buyers each for 30 units, one in four cancelling.
                for deal in others {
                    group.addTask {
                        var done: [Journey] = []
                        for b in 0..<40 { done.append(try await Self.journey(shop, deal: deal, buyer: "\(deal)-b\(b)", cancels: b % 4 == 3)) }
                        return done
                    }
                }
                // The hot deal: four buyers at a time from before the move until 30 journeys after it.
                for worker in 0..<4 {
                    group.addTask {
                        var done: [Journey] = []
                        var after = 0, b = 0
                        while after < 30 {
                            b += 1
                            done.append(try await Self.journey(shop, deal: hotDeal, buyer: "hot-\(worker)-\(b)", cancels: b % 4 == 3))
                            if progress.step() { after += 1 }
                        }
                        return done
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        while progress.steps < 40 { try await Task.sleep(for: .milliseconds(20)) }
        // The hot deal's slot moved, a few keys at a time, while its buyers go on.
        let before = Int(try cluster.cli(source, ["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"])) ?? 0
        try await cluster.move(slot, from: source, to: target, keysAtATime: 5, pause: .milliseconds(10))
        let movedAt = progress.steps
        progress.finish()
        let done = try await journeys.value
        #expect(before > 40, "the slot held the deal's gate, journal, outbox, orders, payments and claims: \(before) keys")
        #expect(progress.steps > movedAt, "journeys went on after the move")
        #expect(try cluster.cli(source, ["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"]) == "0")

        // The audit: Redis's stock gates, orders and MongoDB against what the buyers were told.
        for deal in deals {
            let mine = done.filter { $0.deal == deal }
            let inventory = try #require(try await shop.ports.ledger.stock(deal)).inventory
            let total = deal == sale.dealID ? hot : stock
            let paid = mine.filter { $0.outcome == "paid" }.count, cancelled = mine.filter { $0.outcome == "cancelled" }.count
            let held = mine.filter { $0.order != nil && $0.outcome != "paid" && $0.outcome != "cancelled" }.count
            #expect(inventory.total == total && inventory.available + inventory.reserved + inventory.sold == total, "\(deal): \(inventory)")
            #expect(inventory.sold == paid && inventory.reserved == held, "\(deal): \(inventory), \(paid) paid, \(held) held")
            #expect(paid + held <= total, "\(deal): \(paid) paid and \(held) held of \(total) (\(cancelled) cancelled, their units sold again)")
            if deal != sale.dealID { #expect(paid + held == stock, "\(deal) sold out: \(inventory)") }
        }
        let orders = done.compactMap(\.order)
        #expect(orders.count > 40 * 5)
        for order in orders { #expect(try await shop.ports.orders.order(order.id)?.status == order.status, "\(order.id)") }
        #expect(try await sale.deliver(orders.map(\.id), within: .seconds(90)) == orders.count)
        let durable = Dictionary(uniqueKeysWithValues: try await sale.durable.orders(orders.map(\.id)).map { ($0.id, $0.status) })
        for order in orders { #expect(durable[order.id] == order.status, "\(order.id) in MongoDB: \(String(describing: durable[order.id])), told \(order.status)") }
    }
}
