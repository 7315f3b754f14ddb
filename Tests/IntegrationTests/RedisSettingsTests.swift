import Foundation
import Live
import LiveRedis
import LiveRuntime
import Logging
import Testing

/// The server refuses a Redis that may evict keys: a Redis of the test's own with an eviction
/// policy is named in the start-up error; the shared one (noeviction, AOF) passes. It refuses a
/// Redis below the durability the operator requires, and with replicas required, a write is
/// answered only once they hold it.
@Suite(.enabled(if: Backends.allThere))
struct RedisSettingsTests {
    @Test func durabilityAndReplicasAreJudged() throws {
        var settings = try RedisSettings(info: "maxmemory_policy:noeviction\r\naof_enabled:1\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=1,state=wait_bgsave,offset=0,lag=0\r\n")
        #expect(settings.connectedReplicas == 0, "a replica still in its first sync acknowledges nothing")
        settings.appendFsync = "everysec"
        #expect(settings.shortfall(.any, replicas: 0) == nil && settings.shortfall(.everysec, replicas: 0) == nil)
        #expect(settings.shortfall(.always, replicas: 0)?.contains("appendfsync is everysec") == true)
        #expect(settings.shortfall(.any, replicas: 1)?.contains("0 connected replicas") == true)
        settings.appendFsync = nil
        #expect(settings.shortfall(.everysec, replicas: 0)?.contains("cannot be read") == true)
        settings.appendOnly = false
        #expect(settings.shortfall(.everysec, replicas: 0)?.contains("no append-only file") == true)
    }

    @Test func aRedisBelowTheRequiredDurabilityIsRefusedAtStartUp() async throws {
        let port = Int.random(in: 20_500...20_699)
        let redis = try Self.redis(port, ["--appendonly", "yes", "--appendfsync", "everysec"])
        defer { Self.stop(redis) }
        for _ in 0..<50 where !Broker.accepts(port) { try await Task.sleep(for: .milliseconds(100)) }
        var configuration = try Backends.liveConfiguration()
        configuration.redis.url = "redis://127.0.0.1:\(port)"
        configuration.redis.durability = .always
        do {
            _ = try await ShopServer.compose(configuration, logger: Logger(label: "test"))
            Issue.record("started on a Redis with appendfsync everysec where always was required")
        } catch let error as StartupError {
            #expect(error.description.contains("appendfsync is everysec and always durability needs always"), "\(error)")
        }
    }

    @Test func aWriteIsAnsweredOnlyOnceTheReplicasHoldIt() async throws {
        let port = Int.random(in: 20_700...20_899)
        let primary = try Self.redis(port, ["--repl-diskless-sync-delay", "0"])
        defer { Self.stop(primary) }
        let replica = try Self.redis(port + 1, ["--replicaof", "127.0.0.1", "\(port)"])
        defer { Self.stop(replica) }
        for p in [port, port + 1] { for _ in 0..<50 where !Broker.accepts(p) { try await Task.sleep(for: .milliseconds(100)) } }
        let plain = try await RedisPool(.init(url: "redis://127.0.0.1:\(port)", connections: 1))
        // In sync once a replica acknowledges a write (a WAIT after no write answers at once, and
        // a replica just online may take a moment to acknowledge).
        for _ in 0..<100 {
            let replies = try await plain.pipeline([["SET", "probe", "1"], ["WAIT", "1", "100"]])
            if replies.last == .integer(1) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await RedisSettings.read(plain).connectedReplicas == 1)
        let pool = try await RedisPool(.init(url: "redis://127.0.0.1:\(port)", connections: 1, replicaWait: .init(replicas: 1, timeout: .milliseconds(300))))
        _ = try await pool.send(["SET", "k", "held"])
        let copy = try await RedisPool(.init(url: "redis://127.0.0.1:\(port + 1)", connections: 1))
        #expect(try await copy.send(["GET", "k"]) == .string("held"), "answered once the replica had it")

        Self.stop(replica)
        do {
            _ = try await pool.send(["SET", "k", "alone"])
            Issue.record("a write was answered with no replica to hold it")
        } catch let error as RedisError {
            #expect(error.kind == .replication && error.description.contains("0 of the 1 replicas"), "\(error)")
        }
        #expect(try await plain.send(["GET", "k"]) == .string("alone"), "the primary kept it: a retry with the same key finds it")
    }

    static func redis(_ port: Int, _ arguments: [String]) throws -> Process {
        let redis = Process()
        redis.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flashdeal-redis-\(port)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        redis.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--dir", dir] + arguments
        redis.standardOutput = FileHandle.nullDevice
        redis.standardError = FileHandle.nullDevice
        try redis.run()
        return redis
    }

    /// SIGKILL: a child of Foundation's Process may not see SIGTERM, and one left running keeps
    /// `swift test`'s output pipe open.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    @Test func infoIsRead() throws {
        let settings = try RedisSettings(info: "# Memory\r\nused_memory:1\r\nmaxmemory_policy:allkeys-lru\r\n# Persistence\r\naof_enabled:1\r\n")
        #expect(settings.maxmemoryPolicy == "allkeys-lru" && settings.appendOnly)
        #expect(settings.refusal?.contains("allkeys-lru") == true)
        #expect(throws: RedisError.self) { try RedisSettings(info: "# Memory\r\nused_memory:1\r\n") }
    }

    @Test func theSharedRedisIsAccepted() async throws {
        let settings = try await RedisSettings.read(try await Backends.redisPool())
        #expect(settings.refusal == nil && settings.appendOnly, "\(settings)")
    }

    @Test func aRedisThatMayEvictIsRefusedAtStartUp() async throws {
        let port = Int.random(in: 20_300...20_499)
        let redis = try Self.redis(port, ["--appendonly", "no", "--maxmemory-policy", "allkeys-lru"])
        defer { Self.stop(redis) }
        for _ in 0..<50 where !Broker.accepts(port) { try await Task.sleep(for: .milliseconds(100)) }
        var configuration = try Backends.liveConfiguration()
        configuration.redis.url = "redis://127.0.0.1:\(port)"
        do {
            _ = try await ShopServer.compose(configuration, logger: Logger(label: "test"))
            Issue.record("started on a Redis that may evict")
        } catch let error as StartupError {
            #expect(error.description.contains("maxmemory-policy is allkeys-lru"), "\(error)")
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
    }
}
