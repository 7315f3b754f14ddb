import Foundation
@testable import LiveRedis
import Testing

/// A Redis with a password (`requirepass`): both clients log in from the URL, and a wrong password
/// is refused by name, without it.
@Suite struct RedisLoginTests {
    @Test func bothClientsLogInAndAWrongPasswordIsNamed() async throws {
        let port = Int.random(in: 20_700...20_899)
        let redis = try RedisSettingsTests.redis(port, ["--requirepass", "s3cret"])
        defer { RedisSettingsTests.stop(redis) }
        var pool: RedisPool?
        for _ in 0..<50 where pool == nil {
            pool = try? await RedisPool(.init(url: "redis://:s3cret@127.0.0.1:\(port)", connections: 2))
            if pool == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let reached = try #require(pool, "redis-server with a password started")
        #expect(try await reached.send(["SET", "k", "v"]) == .status("OK"))
        #expect(try await reached.send(["GET", "k"]) == .string("v"))
        let connection = try RedisConnection(try RedisEndpoint(url: "redis://default:s3cret@127.0.0.1:\(port)"), timeout: .seconds(2))
        #expect(try connection.send(["GET", "k"]) == .string("v"), "the hiredis client, with the ACL user")
        do {
            _ = try await RedisPool(.init(url: "redis://:b4dpass@127.0.0.1:\(port)", connections: 1))
            Issue.record("a wrong password was accepted")
        } catch {
            #expect("\(error)".contains("refused the credentials") && !"\(error)".contains("b4dpass"), "\(error)")
        }
        #expect(throws: RedisError.self) { try RedisEndpoint(url: "redis://127.0.0.1:\(port)/3") }
    }
}
