import Foundation
import Live
import Logging
import Testing

/// The server refuses a Redis that may evict keys: a Redis of the test's own with an eviction
/// policy is named in the start-up error; the shared one (noeviction, AOF) passes.
@Suite(.enabled(if: Backends.allThere))
struct RedisSettingsTests {
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
        let redis = Process()
        redis.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        redis.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "allkeys-lru"]
        redis.standardOutput = FileHandle.nullDevice
        redis.standardError = FileHandle.nullDevice
        try redis.run()
        // SIGKILL: a child of Foundation's Process may not see SIGTERM, and one left running keeps
        // `swift test`'s output pipe open.
        defer { kill(redis.processIdentifier, SIGKILL); redis.waitUntilExit() }
        for _ in 0..<50 where !Broker.accepts(port) { try await Task.sleep(for: .milliseconds(100)) }
        var configuration = try Backends.liveConfiguration()
        configuration.redisURL = "redis://127.0.0.1:\(port)"
        do {
            _ = try await ShopServer.compose(configuration, logger: Logger(label: "test"))
            Issue.record("started on a Redis that may evict")
        } catch let error as StartupError {
            #expect(error.description.contains("maxmemory-policy is allkeys-lru"), "\(error)")
            #expect(error.description.contains("127.0.0.1:\(port)"))
        }
    }
}
