import Foundation
@testable import LiveRedis
import Synchronization
import Testing

/// The Redis client against a real three-primary Redis Cluster of the test's own (`redis-server
/// --cluster-enabled yes`, `redis-cli --cluster create`): hash slots as Redis computes them, calls
/// routed to the primary of their slot with deals spread over all three, a pipeline over many
/// deals split by slot, a script or transaction over two slots refused by name, a script loaded
/// where its keys live, and a deal's slot moved to another primary while its counter is
/// incremented: every acknowledged increment counted once.
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
    }

    @Test func hashSlotsAreRedisOwn() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        for key in ["fd:{deal-1}:gate", "fd:{deal-1}:journal", "fd:order:{o-42}", "foo", "{}bar", "foo{}{bar}", "a{b}c{d}", "user:{u-7}:orders", "仮{キー}"] {
            let redis = Int(try cluster.cli(cluster.ports[0], ["CLUSTER", "KEYSLOT", key]))
            #expect(RedisHashSlot.of(key) == redis, "\(key)")
        }
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
        // The move, as `redis-cli --cluster reshard` does it for one slot.
        let sourceID = try cluster.nodeID(source), targetID = try cluster.nodeID(target)
        _ = try cluster.cli(target, ["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceID])
        _ = try cluster.cli(source, ["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID])
        for _ in 0..<100 {
            let keys = try cluster.cli(source, ["CLUSTER", "GETKEYSINSLOT", "\(slot)", "10"]).split(separator: "\n").map(String.init)
            if keys.isEmpty { break }
            _ = try cluster.cli(source, ["MIGRATE", "127.0.0.1", "\(target)", "", "0", "5000", "KEYS"] + keys)
            try await Task.sleep(for: .milliseconds(50))
        }
        // The new owner first, then the old one, then the rest (Redis's documented order).
        for port in [target, source] + cluster.ports.filter({ $0 != target && $0 != source }) {
            _ = try cluster.cli(port, ["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID])
        }
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
}
